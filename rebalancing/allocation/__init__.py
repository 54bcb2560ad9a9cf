"""Allocation staging: the pieces `POST /allocations` is assembled from (docs/rebalancing.md,
"Allocations").

`rebalancing.services.upsert_allocations` runs four stages (lock, context, plan and persist,
optional execution) that hand an `AllocationExecutionPlan` along. What they touch from outside
is injected through the interfaces in `ports`; the real ones are `storage.DjangoAllocationStorage`,
`bus.OutboxBus` and the executor named by `settings.WORLDSERVICE["ALLOCATION_EXECUTOR"]`.
"""
