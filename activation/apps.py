from django.apps import AppConfig


class ActivationConfig(AppConfig):
    name = "activation"
    verbose_name = "Activation"

    def ready(self) -> None:
        from activation.selectors import live_at
        from activation.services.reads import read_state_hash
        from activation.store.redis import KEY_PREFIX
        from activation.world_deletion import end_world_activation
        from worlds import hooks
        from worlds.hot_reads import track_prefix
        from worldservice.state_hashes import register_state_hash_topic

        track_prefix(KEY_PREFIX, cache_key=False)  # the entry read rides in the prefetch
        register_state_hash_topic("activation", read_state_hash)
        hooks.on_world_deleted(end_world_activation)
        hooks.set_live_at_reader(live_at)
