from django.urls import path

from policies.api import decide_views, strategy_run_views, views

STRATEGY_RUNS = "worlds/<str:world_id>/strategies/<str:strategy_id>/runs"

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
    path("worlds/<str:world_id>/bindings", decide_views.BindingsView.as_view(), name="bindings"),
    path("worlds/<str:world_id>/decisions", decide_views.DecisionsView.as_view(), name="decisions"),
    path("worlds/<str:world_id>/history", decide_views.HistoryView.as_view(), name="history"),
    path("worlds/<str:world_id>/evaluate", decide_views.EvaluateView.as_view(), name="evaluate"),
    path(
        "worlds/<str:world_id>/evaluations",
        decide_views.EvaluationListView.as_view(),
        name="evaluation-list",
    ),
    path(
        "worlds/<str:world_id>/evaluations/<str:run_id>",
        decide_views.EvaluationDetailView.as_view(),
        name="evaluation-detail",
    ),
    path(
        STRATEGY_RUNS,
        strategy_run_views.StrategyRunListView.as_view(),
        name="strategy-run-list",
    ),
    path(
        STRATEGY_RUNS + "/<str:run_id>",
        strategy_run_views.StrategyRunDetailView.as_view(),
        name="strategy-run-detail",
    ),
    path(
        STRATEGY_RUNS + "/<str:run_id>/metrics",
        strategy_run_views.StrategyRunMetricsView.as_view(),
        name="strategy-run-metrics",
    ),
    path(
        STRATEGY_RUNS + "/<str:run_id>/history",
        strategy_run_views.StrategyRunHistoryView.as_view(),
        name="strategy-run-history",
    ),
]
