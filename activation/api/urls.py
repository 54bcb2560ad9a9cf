from django.urls import path

from activation.api import views

urlpatterns = [
    path(
        "worlds/<str:world_id>/activation/state_hash",
        views.ActivationStateHashView.as_view(),
        name="activation-state-hash",
    ),
]
