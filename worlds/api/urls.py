from django.urls import path

from worlds.api import views
from worlds.api.events_views import WorldEventsView

urlpatterns = [
    path("worlds", views.WorldListView.as_view(), name="world-list"),
    path("worlds/<str:world_id>", views.WorldDetailView.as_view(), name="world-detail"),
    path(
        "worlds/<str:world_id>/describe", views.WorldDescribeView.as_view(), name="world-describe"
    ),
    path("worlds/<str:world_id>/members", views.MemberListView.as_view(), name="member-list"),
    path(
        "worlds/<str:world_id>/members/<str:username>",
        views.MemberDetailView.as_view(),
        name="member-detail",
    ),
    path("worlds/<str:world_id>/audit", views.WorldAuditView.as_view(), name="world-audit"),
    path("worlds/<str:world_id>/events", WorldEventsView.as_view(), name="world-events"),
    path("audit", views.AuditView.as_view(), name="audit"),
    path("audit/verify", views.AuditVerifyView.as_view(), name="audit-verify"),
]
