from django.apps import AppConfig


class WorldsConfig(AppConfig):
    name = "worlds"
    verbose_name = "Worlds"

    def ready(self) -> None:
        from worlds import signals  # noqa: F401 - connects the receivers
        from worldservice.api import schema  # noqa: F401 - registers the bearer auth scheme
