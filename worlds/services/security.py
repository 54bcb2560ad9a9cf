"""Security events that belong to no world: the service-wide audit chain (`world_id` blank).

Token issue and revocation live there too (`worlds.services.tokens`). Each event is also one
structured log line on the `worldservice.security` logger, for log-based alerting.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from worlds.audit import record_audit

security_log = logging.getLogger("worldservice.security")
MAX_RECORDED_CHARS = 150  # usernames are at most 150 characters; paths and agents are cut


def _printable(value: str | None) -> str:
    """Text as typed by an unauthenticated client, safe to store (no NUL) and bounded."""
    return (value or "").replace("\x00", "\\x00")[:MAX_RECORDED_CHARS]


def record_login_lockout(
    *,
    username: str | None,
    ip_address: str | None,
    path: str | None,
    failures: int,
    cooloff: dt.timedelta | None,
) -> None:
    """Audit that a username was locked out of the admin / browsable-API login.

    The actor is the username that was tried (whoever typed it); the row goes to the
    service-wide chain. Call inside the transaction that records the failure.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_login_lockout must run inside the failure's transaction")
    tried = _printable(username) or "anonymous"
    locked_until = timezone.now() + cooloff if cooloff else None
    record_audit(
        event="login_locked_out",
        actor=tried,
        request={"username": tried, "ip_address": ip_address or "", "path": _printable(path)},
        result={"failures": failures, "locked_until": locked_until},
    )
    security_log.warning(
        "login_locked_out username=%r ip_address=%s path=%r failures=%d locked_until=%s",
        tried,
        ip_address or "-",
        _printable(path),
        failures,
        locked_until.isoformat() if locked_until else "-",
    )
