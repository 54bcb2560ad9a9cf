from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "Policies"

    def ready(self) -> None:
        from policies.selectors import policy_state_hash
        from worldservice.state_hashes import register_state_hash_topic

        register_state_hash_topic("policy", policy_state_hash)
