from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from activation.api.views import ActivationView
from config import health
from policies.api.decide_views import DecideView
from worlds.api.state_hash_views import StateHashView
from worldservice import pages
from worldservice.api.schema import SchemaView

urlpatterns = [
    # The hot lane's routes come first, and only these (worlds/hot_lane.py): the Gateway's hot
    # reads, then the probes. URL resolution walks the list in order, and so does the lane.
    path("worlds/<str:world_id>/decide", DecideView.as_view(), name="decide"),
    path("worlds/<str:world_id>/activation", ActivationView.as_view(), name="activation"),
    path("healthz", health.healthz, name="healthz"),
    # The existing Gateway's client polls /health between retries: the same answer.
    path("health", health.healthz, name="health"),
    path("", pages.landing, name="landing"),
    path("favicon.ico", pages.favicon, name="favicon"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    # The split view serves its start-up script from a URL of its own: no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("worlds.api.urls")),
    path("", include("policies.api.urls")),
    path("", include("activation.apply.urls")),
    path("", include("activation.consumers.urls")),
    path("", include("rebalancing.api.urls")),
    # Last: a route with a free `topic` segment must not shadow the routes above (a member or a
    # run named "state_hash" keeps its own route).
    path(
        "worlds/<str:world_id>/<str:topic>/state_hash",
        StateHashView.as_view(),
        name="state-hash",
    ),
]

# Admin pages under /admin/, the API's JSON body everywhere else.
handler400 = "worldservice.error_pages.handler400"
handler403 = "worldservice.error_pages.handler403"
handler404 = "worldservice.error_pages.handler404"
handler500 = "worldservice.error_pages.handler500"
