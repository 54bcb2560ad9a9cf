from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "Policies"

    def ready(self) -> None:
        from policies.decide_cache import DECIDE_PREFIX, forget_decision
        from policies.selectors import describe_default_policy, policy_state_hash
        from worlds import hooks
        from worlds.hot_reads import track_prefix
        from worldservice.state_hashes import register_state_hash_topic

        register_state_hash_topic("policy", policy_state_hash)
        hooks.add_describer(describe_default_policy)
        hooks.on_world_changed(forget_decision)
        track_prefix(DECIDE_PREFIX, cache_key=True)  # decide's envelope rides in the prefetch
