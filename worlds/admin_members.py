"""The members section of a world's admin page: change a role, remove a member, add one.

Every change goes through the members service (`worlds/services/members.py`), which keeps the
last-owner rule and writes the `member_changed` audit row, exactly as the API does. Only the
world's owners may change members (docs/contract.md#roles).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from worlds.models import World
from worlds.roles import ROLE_LABELS, Role, world_permissions
from worlds.selectors import list_members
from worlds.services.members import remove_member, set_member_role
from worldservice.api.actors import acting_user
from worldservice.api.errors import ServiceError

ROLE_CHOICES = [(label, label) for label in ROLE_LABELS]


class MemberForm(forms.Form):
    action = forms.ChoiceField(choices=[("set", "set"), ("remove", "remove")])
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "set" and not data.get("role"):
            raise forms.ValidationError("Choose a role: reader, operator or owner.")
        return data


def members_context(request: HttpRequest, world: World) -> dict[str, Any]:
    """What the world's page shows of its members, and whether this user may change them."""
    role = world_permissions.role(request.user, world.id)
    return {
        "members": list_members(world.id),
        "can_manage_members": world_permissions.suffices(role, Role.OWNER),
        "world_role": role.label if role is not None else None,
        "role_labels": ROLE_LABELS,
    }


def change_members(request: HttpRequest, world: World) -> HttpResponse:
    """Carry out one members form of the world's page, then go back to the page."""
    back = reverse("admin:worlds_world_change", args=[world.pk]) + "#members"
    if request.method != "POST":
        return HttpResponseRedirect(back)
    refusal = world_permissions.role_refusal(
        world_permissions.role(request.user, world.id), Role.OWNER, world.id, "Changing members"
    )
    if refusal is not None:
        messages.error(request, refusal)
        return HttpResponseRedirect(back)
    form = MemberForm(request.POST)
    if not form.is_valid():
        problems = [str(message) for errors in form.errors.values() for message in errors]
        messages.error(request, " ".join(problems))
        return HttpResponseRedirect(back)
    messages_to_show = _apply(request, world, form.cleaned_data)
    if messages_to_show is not None:
        messages.success(request, messages_to_show)
    return HttpResponseRedirect(back)


def _apply(request: HttpRequest, world: World, data: dict[str, Any]) -> str | None:
    actor, username = acting_user(request), data["username"].strip()
    try:
        if data["action"] == "remove":
            remove_member(actor=actor, world_id=world.id, username=username)
            return f"{username} is no longer a member of {world.id}."
        role = set_member_role(
            actor=actor, world_id=world.id, username=username, role=Role.from_label(data["role"])
        )
    except ServiceError as exc:
        messages.error(request, exc.detail)
        return None
    return f"{username} is {role.label} of {world.id}."
