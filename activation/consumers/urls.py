from django.urls import path

from activation.consumers import api

urlpatterns = [
    path(
        "worlds/<str:world_id>/activation/ack",
        api.AcknowledgeView.as_view(),
        name="activation-ack",
    ),
    path("worlds/<str:world_id>/consumers", api.ConsumersView.as_view(), name="consumers"),
]
