"""django-axes' database handler, plus the audit row of each lockout.

Axes records every failed admin or browsable-API login (`AccessAttempt`, `AccessFailureLog`)
and locks a username + address pair out after `AXES_FAILURE_LIMIT` failures. This handler
makes the failure that causes a lockout also write the audit row (`login_locked_out`, through
`worlds.services.security`) in the same transaction; failures during a lockout (which extend
it) add no row.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from django.db import transaction

from worlds.services.security import record_login_lockout


class AuditedAxesHandler(AxesDatabaseHandler):  # type: ignore[misc]  # axes is untyped
    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        if request is None:  # axes logs and ignores it
            super().user_login_failed(sender, credentials, request, **kwargs)
            return
        # Failures during a lockout run the whole path again (they extend the cool-off), so
        # whether this one starts a lockout is asked before it is counted.
        already_locked = self.is_locked(request, credentials)
        with transaction.atomic():
            super().user_login_failed(sender, credentials, request, **kwargs)
            if getattr(request, "axes_locked_out", False) and not already_locked:
                record_login_lockout(
                    username=get_client_username(request, credentials),
                    ip_address=getattr(request, "axes_ip_address", None),
                    path=getattr(request, "axes_path_info", None),
                    failures=int(getattr(request, "axes_failures_since_start", 0)),
                    cooloff=get_cool_off(request),
                )
