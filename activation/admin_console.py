"""The operators' activation console: one world's activation set, its apply runs, and the
**Override** form (URL name `admin:activation_console`, hung on the counter admin's URLs).

Who may do what follows the API exactly (`worlds.roles`): a reader may look (as `GET
/worlds/{id}/activation` allows), an operator or owner may override, anyone else is told the
world does not exist. The override goes through `override_activation`, the service behind
`PUT /worlds/{id}/activation`, so the same rules hold (If-Match, `live_not_allowed`,
`apply_in_progress`, suspended and deleted worlds) and the same audit rows and events are written.
The form carries the etag of the entry it was opened for: a form left open while the entry
changed is refused, as a stale `If-Match` is.
"""

from __future__ import annotations

from html import escape as html_escape
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from activation.apply.selectors import recent_apply_runs
from activation.consumers.selectors import convergence
from activation.entries import EFFECTIVE_MODES, SIDES
from activation.override_rules import MAX_REASON_LENGTH, MAX_TTL_SECONDS
from activation.selectors import ConsoleEntry, ConsoleState, console_state
from activation.services.overrides import override_activation
from activation.services.reads import read_entry, ready_set
from worlds.models import World
from worlds.roles import Role, world_permissions
from worlds.selectors import get_world
from worldservice.api.actors import acting_user
from worldservice.api.errors import Conflict, ServiceError
from worldservice.api.identifiers import STRATEGY_ID_REGEX

RECENT_RUNS = 10
TEMPLATE = "admin/activation/console.html"
ENTRY_ROW = (
    '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
    "<td>{}</td><td>{}</td><td>{}</td>{}</tr>"
)


class OverrideForm(forms.Form):
    """The fields of `PUT /worlds/{id}/activation` an operator sets by hand, plus the etag of the
    entry as the form was shown (empty for a new entry).

    The form turns the posted text into values and bounds them with the constants of
    `activation.override_rules`, so a mistake is shown beside its field; the service checks the
    same rules again, as for every caller.
    """

    strategy_id = forms.RegexField(
        STRATEGY_ID_REGEX,
        max_length=128,
        label="Strategy",
        error_messages={"invalid": "A strategy id is 1-128 characters without whitespace or '|'."},
    )
    side = forms.ChoiceField(choices=[(side, side) for side in SIDES])
    active = forms.BooleanField(required=False)
    weight = forms.FloatField(min_value=0.0, max_value=1.0, initial=1.0)
    effective_mode = forms.ChoiceField(
        choices=[("", "—"), *((mode, mode) for mode in EFFECTIVE_MODES)],
        required=False,
        label="Effective mode",
    )
    ttl_seconds = forms.IntegerField(
        min_value=1,
        max_value=MAX_TTL_SECONDS,
        required=False,
        label="TTL (seconds)",
        help_text="Leave empty to keep the override until someone changes it; otherwise the "
        "entry reverts on its own when the time is up.",
    )
    reason = forms.CharField(
        max_length=MAX_REASON_LENGTH, required=False, help_text="Kept in the audit log."
    )
    etag = forms.CharField(required=False, widget=forms.HiddenInput)


def _console_url(world_id: str) -> str:
    return reverse("admin:activation_console", args=[world_id])


def _initial(state: ConsoleState, params: Any) -> dict[str, Any]:
    """The form opened from an entry's row: its current values and etag."""
    key = (params.get("strategy_id"), params.get("side"))
    entry: ConsoleEntry | None = next(
        (e for e in state.entries if (e.strategy_id, e.side) == key), None
    )
    if entry is None:
        return {"strategy_id": key[0] or "", "side": key[1] or "long", "weight": 1.0}
    return {
        "strategy_id": entry.strategy_id,
        "side": entry.side,
        "active": entry.active,
        "weight": entry.weight,
        "effective_mode": entry.effective_mode or "",
        "etag": entry.etag,
    }


def _entry_cells(entry: ConsoleEntry) -> tuple[object, ...]:
    flags = " ".join(
        name for name, on in (("frozen", entry.freeze), ("draining", entry.drain)) if on
    )
    return (
        "ws-on" if entry.active else "ws-off",
        entry.strategy_id,
        entry.side,
        "yes" if entry.active else "no",
        entry.weight,
        entry.effective_mode or "—",
        entry.version,
        entry.updated,
        entry.written_by or "—",
        entry.expires_at or "—",
        flags,
    )


def entry_rows(state: ConsoleState, row_link: str | None) -> SafeString:
    """The rows of the entries table, built here rather than in the template: a thousand rows
    cost several times as much through the template engine, or through `format_html`
    (docs/performance.md, "Admin pages"). `row_link` is the console URL ending in "?" when the
    viewer may override, else None."""
    rows = []
    for entry in state.entries:
        cells = [html_escape(str(cell)) for cell in _entry_cells(entry)]
        link = ""
        if row_link is not None:
            href = f"{row_link}strategy_id={quote(entry.strategy_id)}&side={entry.side}#override"
            link = f'<td><a href="{html_escape(href)}">Override…</a></td>'
        rows.append(ENTRY_ROW.format(*cells, link))
    return mark_safe("".join(rows))  # noqa: S308 - every value in it was escaped above


def _refusal(exc: ServiceError) -> str:
    if exc.status_code == 412:
        return (
            f"Refused: this form is stale. {exc.detail} Someone changed the entry after the "
            "form was shown; the table shows it as it is now. Open Override from its row again."
        )
    return f"Refused ({exc.code}): {exc.detail}"


def _override(request: HttpRequest, world_id: str, form: OverrideForm) -> ServiceError | None:
    """Carry out a valid form through the override service; the refusal, if any."""
    data = form.cleaned_data
    etag = data["etag"].strip()
    if not etag and read_entry(world_id, data["strategy_id"], data["side"]) is not None:
        return Conflict(
            f"{data['strategy_id']}|{data['side']} already exists: open Override from its row, "
            "so the form carries its etag and cannot overwrite a change it never saw.",
            code="etag_required",
        )
    envelope = override_activation(
        actor=acting_user(request),
        world_id=world_id,
        strategy_id=data["strategy_id"],
        side=data["side"],
        active=data["active"],
        weight=data["weight"],
        effective_mode=data["effective_mode"] or None,
        ttl_seconds=data["ttl_seconds"],
        reason=data["reason"],
        expected_etags={etag} if etag else frozenset(),
    )
    until = f"; it reverts at {envelope['expires_at']}" if envelope["expires_at"] else ""
    # Said after "Overridden:" because the admin capitalises a message's first letter, and a
    # strategy id must read exactly as stored.
    messages.success(
        request,
        f"Overridden: {envelope['strategy_id']}|{envelope['side']} is now "
        f"{'active' if envelope['active'] else 'inactive'} at weight {envelope['weight']} "
        f"(etag {envelope['etag']}){until}.",
    )
    return None


def _posted_override(
    request: HttpRequest, world_id: str
) -> HttpResponse | tuple[OverrideForm, int]:
    """Carry out a posted override: back to the console when it is done, else the form with its
    refusal and the status to answer with. Only operators may post."""
    world_permissions.require(request.user, world_id, Role.OPERATOR)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return form, 400
    try:
        refusal = _override(request, world_id, form)
    except ServiceError as exc:
        refusal = exc
    if refusal is None:
        return HttpResponseRedirect(_console_url(world_id))
    form.add_error(None, _refusal(refusal))
    return form, refusal.status_code


def _console_context(
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    world: World,
    role: Role,
    form: OverrideForm | None,
) -> dict[str, Any]:
    state = console_state(world.id, ready_set(world.id))
    can_override = world_permissions.suffices(role, Role.OPERATOR)
    if form is None and can_override:
        form = OverrideForm(initial=_initial(state, request.GET))
    runs = recent_apply_runs(world.id, RECENT_RUNS)
    console_url = _console_url(world.id)
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Activation console: {world.id}",
        "world": world,
        "role": role.label,
        "state": state,
        "runs": runs,
        "convergence": convergence(world.id),
        "in_flight": next((run for run in runs if not run.finished), None),
        "form": form if can_override else None,
        "console_url": console_url,
        "entry_rows": entry_rows(state, console_url + "?" if can_override else None),
        "audit_link": reverse("admin:worlds_worldauditlog_changelist")
        + "?"
        + urlencode({"world__id__exact": world.id}),
    }


def console_view(
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    world_id: str,
) -> HttpResponse:
    """GET: the console. POST: an override, then back to the console (or the refusal)."""
    role = world_permissions.require(request.user, world_id, Role.READER)
    world = get_world(world_id)
    form: OverrideForm | None = None
    status = 200
    if request.method == "POST":
        posted = _posted_override(request, world_id)
        if isinstance(posted, HttpResponse):
            return posted
        form, status = posted
    context = _console_context(model_admin, request, world, role, form)
    return TemplateResponse(request, TEMPLATE, context, status=status)
