from django.apps import AppConfig


class ActivationConfig(AppConfig):
    name = "activation"
    verbose_name = "Activation"

    def ready(self) -> None:
        from activation.store.redis import KEY_PREFIX
        from worlds.hot_reads import track_prefix

        track_prefix(KEY_PREFIX, cache_key=False)  # the entry read rides in the prefetch
