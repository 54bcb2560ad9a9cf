from typing import Any

from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "Policies"

    def ready(self) -> None:
        from policies.decide_cache import DECIDE_PREFIX, forget_decision
        from policies.selectors import policy_state_hash
        from worlds.hooks import world_changed
        from worlds.hot_reads import track_prefix
        from worldservice.state_hashes import register_state_hash_topic

        register_state_hash_topic("policy", policy_state_hash)
        track_prefix(DECIDE_PREFIX, cache_key=True)  # decide's envelope rides in the prefetch

        def forget_changed_world(sender: Any, world_id: str, **kwargs: Any) -> None:
            forget_decision(world_id)

        world_changed.connect(forget_changed_world, weak=False, dispatch_uid="decide-cache")
