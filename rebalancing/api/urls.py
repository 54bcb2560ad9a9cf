from django.urls import path

from rebalancing.api import views

urlpatterns = [
    path("rebalancing/plan", views.RebalancePlanView.as_view(), name="rebalancing-plan"),
    path("rebalancing/apply", views.RebalanceApplyView.as_view(), name="rebalancing-apply"),
    path("allocations", views.AllocationsView.as_view(), name="allocations"),
]
