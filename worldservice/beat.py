"""Every periodic task, for `CELERY_BEAT_SCHEDULE` (plain data: the settings import it).

django-celery-beat's DatabaseScheduler installs these entries at start-up; `expires` keeps a
backed-up beat from piling up runs that are already stale.
"""

from __future__ import annotations

from typing import Any

RELAY_SECONDS = 1.0
EXPIRE_OVERRIDES_SECONDS = 5.0
REAP_APPLIES_SECONDS = 5.0
SNAPSHOT_SECONDS = 300.0
RESEND_EVALUATIONS_SECONDS = 15.0

CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "relay-outbox": {"task": "worlds.relay_outbox", "schedule": RELAY_SECONDS},
    "activation-expire-overrides": {
        "task": "activation.tasks.expire_overrides",
        "schedule": EXPIRE_OVERRIDES_SECONDS,
        "options": {"expires": EXPIRE_OVERRIDES_SECONDS},
    },
    "activation-reap-stale-applies": {
        "task": "activation.reap_stale_applies",
        "schedule": REAP_APPLIES_SECONDS,
        "options": {"expires": REAP_APPLIES_SECONDS},
    },
    "policies-resend-stalled-evaluations": {
        "task": "policies.resend_stalled_evaluations",
        "schedule": RESEND_EVALUATIONS_SECONDS,
        "options": {"expires": RESEND_EVALUATIONS_SECONDS},
    },
    "activation-snapshot-all-worlds": {
        "task": "activation.tasks.snapshot_all_worlds",
        "schedule": SNAPSHOT_SECONDS,
        "options": {"expires": SNAPSHOT_SECONDS},
    },
}
