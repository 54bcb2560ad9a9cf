"""`python manage.py relay_events [--once] [--interval SECONDS]`: run the outbox relay.

The loop relays full batches back to back, sleeps `--interval` when idle, backs off (doubling,
up to `--max-backoff`) while Redis or the database is unavailable, and stops cleanly between
batches on SIGTERM or SIGINT. `--once` relays what is pending and exits (1 on failure).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

import redis
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection

from worlds.relay import DEFAULT_BATCH, relay_batch, relay_enabled, relay_pending, stream_name

logger = logging.getLogger("worlds.relay")

FIRST_BACKOFF_SECONDS = 0.5
RELAY_ERRORS = (redis.RedisError, DatabaseError)


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError(raw)
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(raw)
    return value


class Command(BaseCommand):
    help = "Relay recorded events from the outbox table to the Redis Stream, in order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Relay what is pending now, then exit."
        )
        parser.add_argument(
            "--interval",
            type=_positive_float,
            default=0.2,
            help="Seconds to sleep when there is nothing to relay (default 0.2).",
        )
        parser.add_argument(
            "--limit",
            type=_positive_int,
            default=DEFAULT_BATCH,
            help=f"Events per batch (default {DEFAULT_BATCH}).",
        )
        parser.add_argument(
            "--max-backoff",
            type=_positive_float,
            default=30.0,
            help="Longest wait between retries while Redis or the database is down (default 30).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self._once(options["limit"])
            return
        stop = threading.Event()
        self._install_signal_handlers(stop)
        if not relay_enabled():
            # Stay up rather than exit: process managers restart (or stop the others) on exit.
            self.stdout.write(
                "relay_events: no REDIS_URL, so no stream; events stay recorded and are read "
                "through GET /worlds/{id}/events. Idling until stopped."
            )
            stop.wait()
            return
        self.stdout.write(f"relay_events: relaying the outbox to stream {stream_name()!r}")
        published = self._loop(
            stop,
            interval=options["interval"],
            limit=options["limit"],
            max_backoff=options["max_backoff"],
        )
        self.stdout.write(f"relay_events: stopped after relaying {published} events")

    def _once(self, limit: int) -> None:
        if not relay_enabled():
            self.stdout.write("relay_events: no REDIS_URL, nothing to relay")
            return
        try:
            published = relay_pending(limit=limit)
        except RELAY_ERRORS as exc:
            raise CommandError(f"relay failed, events stay pending: {exc}") from exc
        self.stdout.write(f"relay_events: relayed {published} events")

    def _install_signal_handlers(self, stop: threading.Event) -> None:
        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

    def _loop(
        self, stop: threading.Event, *, interval: float, limit: int, max_backoff: float
    ) -> int:
        total = 0
        failures = 0
        backoff = FIRST_BACKOFF_SECONDS
        while not stop.is_set():
            try:
                published = relay_batch(limit=limit)
            except RELAY_ERRORS as exc:
                failures += 1
                if isinstance(exc, DatabaseError):
                    connection.close()  # reconnect on the next attempt
                logger.warning(
                    "relay: %s unavailable (%s: %s); events stay pending; retry %d in %.1fs",
                    "Redis" if isinstance(exc, redis.RedisError) else "database",
                    type(exc).__name__,
                    exc,
                    failures,
                    backoff,
                )
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            if failures:
                logger.warning("relay: resumed after %d failed attempts", failures)
                failures = 0
                backoff = FIRST_BACKOFF_SECONDS
            total += published
            if published < limit:
                stop.wait(interval)
        return total
