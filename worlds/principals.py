"""What a valid token says about its user: the little the hot reads need, and nothing secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class TokenUser:
    """The user a token belongs to, as cached: id, active flag, superuser flag. No password hash,
    no name, no permissions: the hot reads ask only for the world role (`worlds.roles`), and the
    full views load the `User` row itself."""

    pk: int
    is_active: bool
    is_superuser: bool
    is_authenticated: ClassVar[bool] = True
