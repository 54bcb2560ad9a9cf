"""Checks across the fields of a request that each read well on its own.

Every world a position, a strategy allocation map, `realized_returns_by_world` or
`overlay.instrument_by_world` mentions must be planned (in `world_alloc_before` or
`world_alloc_after`), or the planner would have to guess its allocation; in overlay mode every
world holding positions needs an instrument (docs/rebalancing.md, "Validation rules").
"""

from __future__ import annotations

from .fields import RequestReader
from .types import OverlayConfig, RebalanceRequest

_UNPLANNED = "is not in world_alloc_before or world_alloc_after"


def cross_check(read: RequestReader, request: RebalanceRequest) -> None:
    planned = set(request.world_alloc_before) | set(request.world_alloc_after)
    if not planned:
        read.add("world_alloc_after", "world_alloc_before and world_alloc_after name no world")
        return
    for index, position in enumerate(request.positions):
        _check_planned(read, planned, position.world_id, f"positions[{index}].world_id")
    for name, mapping in (
        ("strategy_alloc_before_total", request.strategy_alloc_before_total),
        ("strategy_alloc_after_total", request.strategy_alloc_after_total),
        ("realized_returns_by_world", request.realized_returns_by_world),
    ):
        for world_id in sorted(mapping or {}):
            _check_planned(read, planned, world_id, read.join_key(name, world_id))
    if request.overlay is not None:
        _check_overlay(read, request, request.overlay, planned)


def _check_overlay(
    read: RequestReader, request: RebalanceRequest, overlay: OverlayConfig, planned: set[str]
) -> None:
    path = "overlay.instrument_by_world"
    for world_id in sorted(overlay.instrument_by_world):
        _check_planned(read, planned, world_id, read.join_key(path, world_id))
    if request.mode != "overlay":
        return
    for world_id in sorted({p.world_id for p in request.positions}):
        if world_id not in overlay.instrument_by_world:
            read.add(path, f'no overlay instrument for world "{world_id}", which holds positions')


def _check_planned(read: RequestReader, planned: set[str], world_id: str, path: str) -> None:
    if world_id not in planned:
        read.add(path, f'world "{world_id}" {_UNPLANNED}')
