"""The in-run ceiling for bench/decide.py: a bare Django JSON view, nothing else.

No middleware, no database, no cache, no authentication: Django's handler, the URL resolver and
one `JsonResponse`. `bench/decide.py` starts it under the same server and workers as the
service, so the hot reads can be judged against what Django itself costs on this machine now.

    application       the WSGI callable (gunicorn, granian --interface wsgi)
    asgi_application  the ASGI callable (granian --interface asgi)
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-bare-view",  # noqa: S106 - a bench process with no secrets
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True, "view": "bare"})


urlpatterns = [path("bare", bare)]

from django.core.asgi import get_asgi_application  # noqa: E402 - after settings.configure
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
asgi_application = get_asgi_application()
