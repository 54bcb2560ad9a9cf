"""Who is acting: the authenticated user of a request, as services expect it."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request


def acting_user(request: Request | HttpRequest) -> User:
    """The request's user; views call this only behind an authentication check."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotAuthenticated()
    return user
