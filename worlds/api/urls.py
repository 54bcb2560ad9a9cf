from django.urls import path

from worlds.api import change_views, views
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
    path(
        "worlds/<str:world_id>/changes",
        change_views.WorldChangeListView.as_view(),
        name="world-change-list",
    ),
    path(
        "worlds/<str:world_id>/changes/<str:change_id>",
        change_views.WorldChangeDetailView.as_view(),
        name="world-change-detail",
    ),
    path(
        "worlds/<str:world_id>/changes/<str:change_id>/approve",
        change_views.WorldChangeApproveView.as_view(),
        name="world-change-approve",
    ),
    path(
        "worlds/<str:world_id>/changes/<str:change_id>/reject",
        change_views.WorldChangeRejectView.as_view(),
        name="world-change-reject",
    ),
    path(
        "worlds/<str:world_id>/changes/<str:change_id>/withdraw",
        change_views.WorldChangeWithdrawView.as_view(),
        name="world-change-withdraw",
    ),
    path("worlds/<str:world_id>/audit", views.WorldAuditView.as_view(), name="world-audit"),
    path("worlds/<str:world_id>/events", WorldEventsView.as_view(), name="world-events"),
    path("audit", views.AuditView.as_view(), name="audit"),
    path("audit/verify", views.AuditVerifyView.as_view(), name="audit-verify"),
]
