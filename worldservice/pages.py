"""The few pages outside the admin and the API: the landing page ("View site") and the favicon."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from worldservice import __version__

FAVICON = "worldservice/favicon.ico"


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    """Where "View site" leads: links to the admin, the API docs and the health checks."""
    return render(request, "landing.html", {"version": __version__})


@require_GET
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> FileResponse:
    """`/favicon.ico`, which browsers ask for on their own; pages link the hashed static copy."""
    found = finders.find(FAVICON)
    if not isinstance(found, str):
        raise Http404("No favicon.")
    return FileResponse(open(found, "rb"), content_type="image/x-icon")  # noqa: SIM115 - closed by the response
