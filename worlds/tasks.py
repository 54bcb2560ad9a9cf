"""Celery tasks of the worlds app."""

from __future__ import annotations

import logging

import redis
from celery import shared_task

from worlds.relay import relay_batch

logger = logging.getLogger("worlds.relay")

# For deployments that relay from beat instead of the `relay` process (see docs/events.md).
# `expires` drops runs that waited longer than a few periods, so a stalled worker does not
# come back to a pile of them. The relay lock makes overlapping runs harmless anyway.
RELAY_BEAT_SCHEDULE = {
    "relay-outbox": {
        "task": "worlds.relay_outbox",
        "schedule": 1.0,
        "options": {"expires": 5.0},
    },
}


@shared_task(name="worlds.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Relay one batch of the outbox; a Redis outage leaves the events for the next run."""
    try:
        return relay_batch()
    except redis.RedisError as exc:
        logger.warning("relay: Redis unavailable (%s); events stay pending", exc)
        return 0
