"""The review pages of policy versions, the Wagtail way: one page per version, then Compare with,
Simulation, Approve / Reject with a comment, and Set as default / Roll back to this version
through a confirmation page. New version opens prefilled with the default's text.

Pages read through selectors and write through the services the API uses (`review_policy`,
`set_default_version`, `upload_policy`), so both write the same audit rows and events. A refusal
is shown as a page or a message with the service's sentence, never as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from policies.admin.access import VersionRights, rights_on
from policies.admin.forms import NewVersionForm, ReviewForm, SimulationForm
from policies.diffs import side_by_side
from policies.dsl import parse_policy, summarize_gates
from policies.dsl.locations import LocatedError
from policies.models import PolicyStatus, ReviewDecision, WorldPolicy
from policies.selectors import approval_state, default_policy, get_version, version_numbers
from policies.services.defaults import set_default_version
from policies.services.reviews import review_policy
from policies.services.uploads import PolicySource, upload_policy
from policies.simulation import DEFAULT_RUNS, simulate_version
from worlds.models import World
from worlds.roles import world_permissions
from worldservice.api.actors import acting_user
from worldservice.api.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ServiceError

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

P = ParamSpec("P")
TEMPLATES = "admin/policies/worldpolicy/"
URL_PREFIX = "policies_worldpolicy_"
SET_AS_DEFAULT = "Set as default"
ROLL_BACK = "Roll back to this version"
STALE_CONFIRMATION = (
    "World {world!r} changed since this page was shown (another change came first). "
    "Look at the diff and the simulation again, then confirm."
)


def url_name(page: str) -> str:
    """The URL name of a review page, e.g. `admin:policies_worldpolicy_review`."""
    return f"admin:{URL_PREFIX}{page}"


def review_url(policy: WorldPolicy) -> str:
    return reverse(url_name("review"), args=[policy.world_id, policy.version])


def default_label(world: World, policy: WorldPolicy) -> str:
    """ "Roll back to this version" for a version older than the default, else "Set as default"."""
    current = world.default_policy_version
    return ROLL_BACK if current is not None and policy.version < current else SET_AS_DEFAULT


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


def _refusals_as_pages(
    view: Callable[Concatenate[VersionPages, HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[VersionPages, HttpRequest, P], HttpResponse]:
    """Show a service's refusal (no such world, no permission) as an admin page."""

    @wraps(view)
    def wrapper(
        pages: VersionPages, request: HttpRequest, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        try:
            return view(pages, request, *args, **kwargs)
        except ServiceError as exc:
            return pages.refused(request, exc)

    return wrapper


class VersionPages:
    """The extra admin views of `WorldPolicyAdmin` (see `urls` for their names)."""

    def __init__(self, model_admin: ModelAdmin[WorldPolicy]) -> None:
        self.model_admin = model_admin

    def urls(self) -> list[URLPattern]:
        wrap = self.model_admin.admin_site.admin_view
        version = "<str:world_id>/v<int:version>/"
        return [
            path("<str:world_id>/new/", wrap(self.new_version), name=URL_PREFIX + "new"),
            path(version, wrap(self.review), name=URL_PREFIX + "review"),
            path(version + "compare/", wrap(self.compare), name=URL_PREFIX + "compare"),
            path(version + "simulation/", wrap(self.simulation), name=URL_PREFIX + "simulation"),
            path(version + "approve/", wrap(self.approve), name=URL_PREFIX + "approve"),
            path(version + "reject/", wrap(self.reject), name=URL_PREFIX + "reject"),
            path(version + "set-default/", wrap(self.set_default), name=URL_PREFIX + "set_default"),
        ]

    # --- shared ------------------------------------------------------------------------------

    def _context(
        self, request: HttpRequest, rights: VersionRights, title: str, **extra: Any
    ) -> dict[str, Any]:
        return {
            **self.model_admin.admin_site.each_context(request),
            "opts": WorldPolicy._meta,
            "title": title,
            "world": rights.world,
            "rights": rights,
            **extra,
        }

    def _version_context(
        self, request: HttpRequest, rights: VersionRights, policy: WorldPolicy, title: str
    ) -> dict[str, Any]:
        return self._context(
            request,
            rights,
            title,
            policy=policy,
            state=approval_state(policy, required=rights.world.approvals_required),
            default_label=default_label(rights.world, policy),
        )

    def refused(self, request: HttpRequest, exc: ServiceError) -> HttpResponse:
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": WorldPolicy._meta,
            "title": "Not available" if isinstance(exc, NotFound) else "Not allowed",
            "detail": exc.detail,
        }
        return TemplateResponse(
            request, TEMPLATES + "refused.html", context, status=exc.status_code
        )

    def _load(
        self, request: HttpRequest, world_id: str, version: int
    ) -> tuple[VersionRights, WorldPolicy]:
        rights = rights_on(acting_user(request), world_id)
        return rights, get_version(world_id, version)

    # --- the review page ------------------------------------------------------------------------

    @_refusals_as_pages
    def review(self, request: HttpRequest, world_id: str, version: int) -> HttpResponse:
        rights, policy = self._load(request, world_id, version)
        return self._review_page(request, rights, policy)

    def _review_page(
        self,
        request: HttpRequest,
        rights: VersionRights,
        policy: WorldPolicy,
        forms: dict[str, ReviewForm] | None = None,
        status: int = 200,
    ) -> HttpResponse:
        forms = forms or {}
        context = self._version_context(
            request, rights, policy, f"{policy.world_id} version {policy.version}"
        )
        context.update(
            tab="review",
            gates=summarize_gates(parse_policy(policy.document)),
            lines=numbered(policy.yaml),
            reviews=list(policy.approvals.all()),
            review_refusal=rights.review_refusal(policy),
            default_refusal=rights.default_refusal(policy),
            other_versions=[n for n in version_numbers(policy.world_id) if n != policy.version],
            approve_form=forms.get("approve", ReviewForm(prefix="approve")),
            reject_form=forms.get("reject", ReviewForm(prefix="reject")),
        )
        return TemplateResponse(request, TEMPLATES + "review.html", context, status=status)

    # --- Approve and Reject -------------------------------------------------------------------

    @_refusals_as_pages
    def approve(self, request: HttpRequest, world_id: str, version: int) -> HttpResponse:
        return self._decide(request, world_id, version, ReviewDecision.APPROVE)

    @_refusals_as_pages
    def reject(self, request: HttpRequest, world_id: str, version: int) -> HttpResponse:
        return self._decide(request, world_id, version, ReviewDecision.REJECT)

    def _decide(
        self, request: HttpRequest, world_id: str, version: int, decision: ReviewDecision
    ) -> HttpResponse:
        rights, policy = self._load(request, world_id, version)
        if request.method != "POST":
            return HttpResponseRedirect(review_url(policy))
        form = ReviewForm(request.POST, prefix=decision.value)
        if not form.is_valid():
            return self._review_page(request, rights, policy, {decision.value: form}, status=400)
        try:
            review_policy(
                actor=rights.user,
                world_id=world_id,
                version=version,
                decision=decision,
                comment=form.cleaned_data["comment"],
            )
        except (Forbidden, Conflict) as exc:
            messages.error(request, exc.detail)
        else:
            verb = "approved" if decision == ReviewDecision.APPROVE else "rejected"
            messages.success(request, f"You {verb} version {version} of {world_id}.")
        return HttpResponseRedirect(review_url(policy) + "#review")

    # --- Compare with ---------------------------------------------------------------------------

    @_refusals_as_pages
    def compare(self, request: HttpRequest, world_id: str, version: int) -> HttpResponse:
        rights, policy = self._load(request, world_id, version)
        others = [n for n in version_numbers(world_id) if n != policy.version]
        against = self._against(request, rights.world, policy, others)
        base = get_version(world_id, against) if against is not None else None
        context = self._version_context(
            request, rights, policy, f"{world_id} version {version}: compare"
        )
        context.update(
            tab="compare",
            other_versions=others,
            against=against,
            diff=side_by_side(base.yaml if base else "", policy.yaml),
            left_title=f"v{against}" if against is not None else "(no other version)",
            right_title=f"v{policy.version}",
        )
        return TemplateResponse(request, TEMPLATES + "compare.html", context)

    @staticmethod
    def _against(
        request: HttpRequest, world: World, policy: WorldPolicy, others: list[int]
    ) -> int | None:
        """The version asked for, else the default, else the closest older (or newer) one."""
        raw = request.GET.get("against", "")
        if raw:
            if not raw.isdigit() or int(raw) not in others:
                raise NotFound(f"World {world.id!r} has no other policy version {raw!r}.")
            return int(raw)
        if world.default_policy_version in others:
            return world.default_policy_version
        older = [n for n in others if n < policy.version]
        if older:
            return older[-1]
        return others[0] if others else None

    # --- Simulation -----------------------------------------------------------------------------

    @_refusals_as_pages
    def simulation(self, request: HttpRequest, world_id: str, version: int) -> HttpResponse:
        rights, policy = self._load(request, world_id, version)
        form = SimulationForm(request.GET if "runs" in request.GET else None)
        runs = form.cleaned_data["runs"] if form.is_bound and form.is_valid() else DEFAULT_RUNS
        context = self._version_context(
            request, rights, policy, f"{world_id} version {version}: simulation"
        )
        context.update(
            tab="simulation",
            form=form,
            simulation=simulate_version(world=rights.world, policy=policy, runs=runs),
        )
        return TemplateResponse(request, TEMPLATES + "simulation.html", context)

    # --- Set as default / Roll back to this version ------------------------------------------

    @_refusals_as_pages
    def set_default(self, request: HttpRequest, world_id: str, version: int) -> HttpResponse:
        rights, policy = self._load(request, world_id, version)
        if request.method == "POST":
            return self._confirm_default(request, rights, policy)
        current = default_policy(rights.world)
        label = default_label(rights.world, policy)
        context = self._version_context(request, rights, policy, f"{label}: {world_id}")
        context.update(
            tab="review",
            refusal=rights.default_refusal(policy),
            current=current,
            diff=side_by_side(current.yaml if current else "", policy.yaml),
            left_title=f"v{current.version} (the default)" if current else "(no default yet)",
            right_title=f"v{policy.version}",
            simulation=simulate_version(world=rights.world, policy=policy),
            etag=rights.world.etag,
        )
        return TemplateResponse(request, TEMPLATES + "confirm_default.html", context)

    def _confirm_default(
        self, request: HttpRequest, rights: VersionRights, policy: WorldPolicy
    ) -> HttpResponse:
        again = reverse(url_name("set_default"), args=[policy.world_id, policy.version])
        refusal = rights.default_refusal(policy)
        if refusal is not None:
            messages.error(request, refusal)
            return HttpResponseRedirect(again)
        label = default_label(rights.world, policy)
        try:
            set_default_version(
                actor=rights.user,
                world_id=policy.world_id,
                version=policy.version,
                # The world as the page showed it: a change in between must be looked at again.
                expected_etags={request.POST.get("etag") or "(none)"},
            )
        except PreconditionFailed:
            messages.error(request, STALE_CONFIRMATION.format(world=policy.world_id))
            return HttpResponseRedirect(again)
        except (Conflict, Forbidden) as exc:
            messages.error(request, exc.detail)
            return HttpResponseRedirect(again)
        done = "rolled back to" if label == ROLL_BACK else "now runs"
        messages.success(request, f"World {policy.world_id} {done} version {policy.version}.")
        return HttpResponseRedirect(review_url(policy))

    # --- New version ----------------------------------------------------------------------------

    @_refusals_as_pages
    def new_version(self, request: HttpRequest, world_id: str) -> HttpResponse:
        rights = rights_on(acting_user(request), world_id)
        refusal = rights.write_refusal()
        context = self._context(request, rights, f"New version of {world_id}", refusal=refusal)
        if refusal is not None:
            return TemplateResponse(request, TEMPLATES + "new_version.html", context, status=403)
        current = default_policy(rights.world)
        if request.method != "POST":
            form = NewVersionForm(initial={"yaml": current.yaml if current else ""})
        else:
            form = NewVersionForm(request.POST)
            if form.is_valid():
                return self._store(request, rights, form)
        context.update(
            form=form,
            current=current,
            unplaced_errors=[e for e in form.located_errors if e.line is None],
            source_lines=_lines_with_errors(form),
        )
        status = 400 if form.is_bound else 200
        return TemplateResponse(request, TEMPLATES + "new_version.html", context, status=status)

    def _store(self, request: HttpRequest, rights: VersionRights, form: NewVersionForm) -> Any:
        policy = upload_policy(
            actor=rights.user,
            world_id=rights.world.id,
            source=PolicySource(text=form.cleaned_data["yaml"]),
            valid_from=form.cleaned_data.get("valid_from"),
        )
        if policy.status == PolicyStatus.ACTIVE:
            messages.success(request, f"Version {policy.version} is stored and is the default.")
        else:
            messages.success(
                request,
                f"Version {policy.version} is stored as a draft; it needs "
                f"{rights.world.approvals_required} approval(s) from someone else.",
            )
        return HttpResponseRedirect(review_url(policy))

    # --- where "Add" leads ----------------------------------------------------------------------

    def choose_world(self, request: HttpRequest) -> HttpResponse:
        """The list's Add button: the worlds the user may write a new version of."""
        worlds = (
            world_permissions.owned_worlds(acting_user(request))
            .order_by("id")
            .only("id", "name", "state")
        )
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": WorldPolicy._meta,
            "title": "New version: choose a world",
            "worlds": worlds,
        }
        return TemplateResponse(request, TEMPLATES + "choose_world.html", context)


def _lines_with_errors(
    form: NewVersionForm,
) -> list[tuple[int, str, list[LocatedError]]]:
    """The submitted text, numbered, each line with the errors placed on it (if it has errors)."""
    if not form.located_errors:
        return []
    by_line: dict[int, list[LocatedError]] = {}
    for error in form.located_errors:
        if error.line is not None:
            by_line.setdefault(error.line, []).append(error)
    text = str(form.data.get("yaml", "")).replace("\r\n", "\n")
    lines = text.splitlines() or [""]
    last = max([len(lines), *by_line])  # an error may sit just after the last line
    lines += [""] * (last - len(lines))
    return [(n, line, by_line.get(n, [])) for n, line in enumerate(lines, start=1)]
