from django.apps import AppConfig


class WorldsConfig(AppConfig):
    name = "worlds"
    verbose_name = "Worlds"

    def ready(self) -> None:
        from worlds import signals  # noqa: F401 - connects the receivers
        from worlds.decide_cache import DECIDE_PREFIX
        from worlds.hot_reads import track_prefix
        from worldservice.api import schema  # noqa: F401 - registers the bearer auth scheme

        track_prefix(DECIDE_PREFIX, cache_key=True)
