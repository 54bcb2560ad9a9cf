from django.apps import AppConfig


class WorldsConfig(AppConfig):
    name = "worlds"
    verbose_name = "Worlds"

    def ready(self) -> None:
        from worldservice.api import schema  # noqa: F401 - registers the bearer auth scheme
