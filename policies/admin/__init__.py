"""The policy admin: the list of versions, a review page per version, and the policy versions
awaiting the signed-in approver on the admin home."""

from policies.admin.review_items import policy_versions_awaiting
from policies.admin.versions import WorldPolicyAdmin
from worldservice.review_queue import review_sources

review_sources.register(policy_versions_awaiting)

__all__ = ["WorldPolicyAdmin"]
