from django.urls import path

from activation.apply import api

urlpatterns = [
    path("worlds/<str:world_id>/apply", api.ApplyView.as_view(), name="apply"),
    path("worlds/<str:world_id>/apply/<str:run_id>", api.ApplyRunView.as_view(), name="apply-run"),
]
