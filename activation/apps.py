from django.apps import AppConfig


class ActivationConfig(AppConfig):
    name = "activation"
    verbose_name = "Activation"

    def ready(self) -> None:
        from activation.selectors import read_state_hash
        from activation.store.redis import KEY_PREFIX
        from worlds.hot_reads import track_prefix
        from worldservice.state_hashes import register_state_hash_topic

        track_prefix(KEY_PREFIX, cache_key=False)  # the entry read rides in the prefetch
        register_state_hash_topic("activation", read_state_hash)
