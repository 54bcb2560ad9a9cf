from django.urls import path

from policies.api import views

urlpatterns = [
    path("worlds/<str:world_id>/policies", views.PolicyListView.as_view(), name="policy-list"),
    path(
        "worlds/<str:world_id>/policies/<str:version>",
        views.PolicyDetailView.as_view(),
        name="policy-detail",
    ),
    path(
        "worlds/<str:world_id>/policies/<str:version>/diff",
        views.PolicyDiffView.as_view(),
        name="policy-diff",
    ),
    path(
        "worlds/<str:world_id>/policies/<str:version>/approve",
        views.PolicyApproveView.as_view(),
        name="policy-approve",
    ),
    path(
        "worlds/<str:world_id>/policies/<str:version>/reject",
        views.PolicyRejectView.as_view(),
        name="policy-reject",
    ),
    path(
        "worlds/<str:world_id>/set-default",
        views.SetDefaultView.as_view(),
        name="policy-set-default",
    ),
]
