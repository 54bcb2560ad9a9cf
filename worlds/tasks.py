"""Celery tasks of the worlds app."""

from __future__ import annotations

import logging

import redis
from celery import shared_task

from worlds.relay import relay_batch

logger = logging.getLogger("worlds.relay")


# `expires` (seconds) drops runs that waited longer than a few periods, so a stalled worker does
# not come back to a pile of them; the relay lock makes overlapping runs harmless anyway.
@shared_task(name="worlds.relay_outbox", ignore_result=True, expires=5)
def relay_outbox() -> int:
    """Relay one batch of the outbox; a Redis outage leaves the events for the next run."""
    try:
        return relay_batch()
    except redis.RedisError as exc:
        logger.warning("relay: Redis unavailable (%s); events stay pending", exc)
        return 0
