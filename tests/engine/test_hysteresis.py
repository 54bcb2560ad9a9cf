"""Step 7: hysteresis sequences (promote/demote after N, min_dwell, same as_of, bands)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from policies.dsl.model import Bands, Hysteresis, Policy, TopK
from policies.engine import EvaluationResult, HysteresisState
from policies.engine import result as codes
from tests.engine.helpers import AS_OF, HOUR, metric_score, policy, run

PASSING = {"s1": {"sharpe": 1.0}}
FAILING = {"s1": {"sharpe": 0.1}}


def gated(hysteresis: Hysteresis | None) -> Policy:
    return policy(gates="sharpe >= 0.5", score=metric_score("sharpe"), hysteresis=hysteresis)


class World:
    """Feeds each result's state and active set into the next evaluation (as apply would)."""

    def __init__(self, pol: Policy, previous: tuple[str, ...] = ()) -> None:
        self.policy = pol
        self.previous = previous
        self.state: Mapping[str, HysteresisState] = {}

    def step(
        self, metrics: Mapping[str, Mapping[str, object]], as_of: datetime, *, apply: bool = True
    ) -> EvaluationResult:
        result = run(self.policy, metrics, previous=self.previous, state=self.state, as_of=as_of)
        self.state = result.state
        if apply:
            self.previous = result.active
        return result


def test_hysteresis__promote_after_3__held_until_third_pass() -> None:
    world = World(gated(Hysteresis(promote_after=3, demote_after=1)))

    first = world.step(PASSING, AS_OF)
    second = world.step(PASSING, AS_OF + HOUR)
    third = world.step(PASSING, AS_OF + 2 * HOUR)

    assert [r.strategies["s1"].hysteresis.action for r in (first, second, third)] == [
        "HOLD",
        "HOLD",
        "PROMOTE",
    ]
    assert [r.strategies["s1"].hysteresis.consecutive_pass for r in (first, second, third)] == [
        1,
        2,
        3,
    ]
    assert codes.HYSTERESIS_HOLD in first.strategies["s1"].reasons
    assert first.active == () and first.plan.activate == ()
    assert third.active == ("s1",) and third.plan.activate == ("s1",)
    assert codes.HYSTERESIS_PROMOTE in third.strategies["s1"].reasons


def test_hysteresis__fail_between_passes__pass_streak_resets() -> None:
    world = World(gated(Hysteresis(promote_after=2)))

    world.step(PASSING, AS_OF)
    failed = world.step(FAILING, AS_OF + HOUR)
    again = world.step(PASSING, AS_OF + 2 * HOUR)

    assert failed.strategies["s1"].hysteresis.consecutive_fail == 1
    assert failed.strategies["s1"].hysteresis.consecutive_pass == 0
    assert again.strategies["s1"].hysteresis.action == "HOLD"
    assert again.strategies["s1"].hysteresis.consecutive_pass == 1


def test_hysteresis__demote_after_2__active_kept_through_first_fail() -> None:
    world = World(gated(Hysteresis(demote_after=2)), previous=("s1",))

    first = world.step(FAILING, AS_OF)
    second = world.step(FAILING, AS_OF + HOUR)

    assert first.strategies["s1"].hysteresis.action == "HOLD"
    assert codes.HYSTERESIS_HOLD in first.strategies["s1"].reasons
    assert first.active == ("s1",)
    assert first.weights == {"s1": 1.0}  # held active strategies carry weight
    assert second.strategies["s1"].hysteresis.action == "DEMOTE"
    assert second.active == ()
    assert second.plan.deactivate == ("s1",)


def test_hysteresis__within_min_dwell__no_change_until_dwell_passed() -> None:
    # Given promoted at AS_OF with min_dwell 3h, then failing.
    world = World(gated(Hysteresis(promote_after=1, demote_after=1, min_dwell_seconds=3 * 3600)))
    world.step(PASSING, AS_OF)

    early = world.step(FAILING, AS_OF + HOUR)
    late = world.step(FAILING, AS_OF + 3 * HOUR)

    assert early.strategies["s1"].hysteresis.action == "HOLD"
    assert early.strategies["s1"].hysteresis.dwell_seconds == 3600
    assert {codes.HYSTERESIS_HOLD, codes.HYSTERESIS_DWELL} <= set(early.strategies["s1"].reasons)
    assert early.active == ("s1",)
    assert late.strategies["s1"].hysteresis.action == "DEMOTE"
    assert late.active == ()


def test_hysteresis__never_changed_state__no_dwell_to_wait_for() -> None:
    world = World(gated(Hysteresis(min_dwell_seconds=10 * 3600)))

    result = world.step(PASSING, AS_OF)

    assert result.strategies["s1"].hysteresis.action == "PROMOTE"
    assert result.strategies["s1"].hysteresis.dwell_seconds == 0


def test_hysteresis__previously_active_without_state__no_dwell() -> None:
    world = World(gated(Hysteresis(min_dwell_seconds=10 * 3600)), previous=("s1",))

    result = world.step(FAILING, AS_OF)

    assert result.strategies["s1"].hysteresis.action == "DEMOTE"
    assert result.strategies["s1"].hysteresis.dwell_seconds == 0


def test_hysteresis__same_as_of_twice__counted_once() -> None:
    world = World(gated(Hysteresis(promote_after=2)))

    first = world.step(PASSING, AS_OF)
    repeat = world.step(PASSING, AS_OF)
    earlier = world.step(PASSING, AS_OF - HOUR)
    later = world.step(PASSING, AS_OF + HOUR)

    assert first.strategies["s1"].hysteresis.consecutive_pass == 1
    assert repeat.strategies["s1"].hysteresis.consecutive_pass == 1
    assert repeat.strategies["s1"].hysteresis.action == "HOLD"
    assert codes.HYSTERESIS_NOT_COUNTED in repeat.strategies["s1"].reasons
    assert earlier.strategies["s1"].hysteresis.consecutive_pass == 1
    assert later.strategies["s1"].hysteresis.action == "PROMOTE"
    assert later.strategies["s1"].hysteresis.consecutive_pass == 2


def test_hysteresis__same_as_of_after_promote__repeats_the_same_decision() -> None:
    # Given a PROMOTE at AS_OF whose plan is not applied: re-running AS_OF says PROMOTE again.
    world = World(gated(Hysteresis(promote_after=1, min_dwell_seconds=3600)))
    world.step(PASSING, AS_OF, apply=False)

    repeat = world.step(PASSING, AS_OF, apply=False)

    assert repeat.strategies["s1"].hysteresis.action == "PROMOTE"
    assert repeat.plan.activate == ("s1",)


def test_hysteresis__promotion_not_applied__dwell_does_not_block_repromotion() -> None:
    # Given a PROMOTE at AS_OF never applied, min_dwell 3h: an hour later it is still promoted.
    world = World(gated(Hysteresis(promote_after=1, min_dwell_seconds=3 * 3600)))
    world.step(PASSING, AS_OF, apply=False)

    later = world.step(PASSING, AS_OF + HOUR)

    assert later.strategies["s1"].hysteresis.action == "PROMOTE"
    assert later.active == ("s1",)


def test_hysteresis__bands__inactive_needs_enter_active_needs_exit() -> None:
    bands = Bands(metric="sharpe", enter=0.6, exit=0.4)
    pol = policy(gates="sharpe >= 0.3", hysteresis=Hysteresis(bands=bands))

    # When sharpe is 0.5, between exit and enter:
    inactive = run(pol, {"s1": {"sharpe": 0.5}})
    active = run(pol, {"s1": {"sharpe": 0.5}}, previous=["s1"])
    # And when an active one drops to 0.35, above the gate but below exit:
    below_exit = run(pol, {"s1": {"sharpe": 0.35}}, previous=["s1"])

    assert inactive.strategies["s1"].status == "pass"
    assert inactive.strategies["s1"].hysteresis.action == "HOLD"
    assert codes.BAND_BELOW_ENTER in inactive.strategies["s1"].reasons
    assert inactive.active == ()
    assert active.strategies["s1"].hysteresis.action == "HOLD"
    assert active.strategies["s1"].hysteresis.consecutive_pass == 1
    assert active.active == ("s1",)
    assert below_exit.strategies["s1"].hysteresis.action == "DEMOTE"
    assert codes.BAND_BELOW_EXIT in below_exit.strategies["s1"].reasons


def test_hysteresis__bands_metric_missing__band_not_met() -> None:
    pol = policy(hysteresis=Hysteresis(bands=Bands(metric="q", enter=0.6, exit=0.4)))

    result = run(pol, {"s1": {"sharpe": 1.0}})

    assert result.strategies["s1"].selected
    assert result.active == ()


def test_hysteresis__no_section__promote_and_demote_at_once() -> None:
    world = World(gated(None), previous=("s2",))

    result = world.step({"s1": {"sharpe": 1.0}, "s2": {"sharpe": 0.0}}, AS_OF)

    assert result.strategies["s1"].hysteresis.action == "PROMOTE"
    assert result.strategies["s2"].hysteresis.action == "DEMOTE"
    assert result.plan.activate == ("s1",) and result.plan.deactivate == ("s2",)


def test_hysteresis__selected_but_cut_later__counts_as_failure() -> None:
    # Given passing gates but cut by top-k: not a pass for hysteresis.
    pol = policy(score=metric_score("sharpe"), topk=TopK(total=1))

    result = run(pol, {"a": {"sharpe": 2.0}, "b": {"sharpe": 1.0}}, previous=["b"])

    assert result.strategies["b"].status == "pass"
    assert result.strategies["b"].hysteresis.consecutive_fail == 1
    assert result.strategies["b"].hysteresis.action == "DEMOTE"


def test_hysteresis__advance_state_false__input_state_returned_unchanged() -> None:
    prior = {"s1": HysteresisState(consecutive_pass=1, last_counted_as_of=AS_OF - HOUR)}
    snapshot = dict(prior)

    result = run(gated(Hysteresis(promote_after=2)), PASSING, state=prior, advance_state=False)

    assert result.state is prior
    assert prior == snapshot
    # The output still shows what this run would do.
    assert result.strategies["s1"].hysteresis.action == "PROMOTE"
    assert result.strategies["s1"].hysteresis.consecutive_pass == 2


def test_hysteresis__advance_state_true__new_mapping_input_untouched() -> None:
    prior = {
        "s1": HysteresisState(consecutive_pass=1, last_counted_as_of=AS_OF - HOUR),
        "gone": HysteresisState(consecutive_fail=4),
    }
    snapshot = dict(prior)

    result = run(gated(Hysteresis(promote_after=2)), PASSING, state=prior)

    assert prior == snapshot
    assert result.state is not prior
    assert result.state["gone"] == prior["gone"]  # not evaluated: carried over
    assert result.state["s1"] == HysteresisState(
        consecutive_pass=2,
        consecutive_fail=0,
        active=True,
        last_change_at=AS_OF,
        last_counted_as_of=AS_OF,
    )


def test_hysteresis__previous_without_metrics__fails_and_is_demoted() -> None:
    result = run(gated(None), {"s1": {"sharpe": 1.0}}, previous=["s1", "ghost"])

    ghost = result.strategies["ghost"]
    assert codes.METRICS_ABSENT in ghost.reasons
    assert ghost.hysteresis.action == "DEMOTE"
    assert result.plan.deactivate == ("ghost",)
    assert result.active == ("s1",)
