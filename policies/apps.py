from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "Policies"

    def ready(self) -> None:
        from policies.selectors import describe_default_policy, policy_state_hash
        from worlds import hooks
        from worldservice.state_hashes import register_state_hash_topic

        register_state_hash_topic("policy", policy_state_hash)
        hooks.add_describer(describe_default_policy)
