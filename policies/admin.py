"""Admin for risk staff: upload, review, compare and set default (or roll back) policy versions.

Every button calls the same service as the API, so the same rules hold (nobody approves their own
version; only owners upload and set the default) and the same audit rows and events are written.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from policies.dsl import parse_policy, summarize_gates
from policies.models import PolicyApproval, ReviewDecision, WorldPolicy
from policies.selectors import approval_state, version_diff
from policies.services.defaults import set_default_version
from policies.services.reviews import review_policy
from policies.services.uploads import PolicySource, parse_source, upload_policy
from worlds.models import World
from worlds.roles import Role, require_role, visible_worlds
from worldservice.api.actors import acting_user
from worldservice.api.errors import ServiceError


class PolicyUploadForm(forms.ModelForm):
    """A new version: the world and the YAML text, validated by the policy language."""

    yaml = forms.CharField(
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "style": "font-family: monospace"}),
        help_text="The policy document (see docs/policy-language.md).",
    )

    class Meta:
        model = WorldPolicy
        fields = ["world", "yaml", "valid_from"]

    def clean_yaml(self) -> str:
        # Browsers send CRLF from a textarea; store the text as it was typed.
        text: str = self.cleaned_data["yaml"].replace("\r\n", "\n")
        try:
            parse_source(PolicySource(text=text))
        except ServiceError as exc:
            raise forms.ValidationError(
                [
                    f"{path}: {message}"
                    for path, messages in exc.errors.items()
                    for message in messages
                ]
            ) from exc
        return text


class ReviewInline(admin.TabularInline):
    model = PolicyApproval
    extra = 0
    can_delete = False
    fields = ("user", "decision", "comment", "at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WorldPolicy)
class WorldPolicyAdmin(admin.ModelAdmin):
    list_display = ("world", "version", "status", "approved", "created_by", "created_at", "summary")
    list_filter = ("status", "world")
    search_fields = ("world__id", "yaml")
    ordering = ("world_id", "-version")
    inlines = [ReviewInline]
    form = PolicyUploadForm  # the add page; every field of an existing version is read-only
    actions = ("approve_versions", "reject_versions", "make_default")
    readonly_fields = (
        "world",
        "version",
        "status",
        "checksum",
        "created_by",
        "created_at",
        "valid_from",
        "activated_at",
        "preset",
        "preset_mode",
        "preset_version",
        "preset_overrides",
        "summary",
        "approved",
        "yaml_text",
        "diff_against_default",
    )
    fields = readonly_fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = PolicyUploadForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["world", "yaml", "valid_from"] if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "world":
            kwargs["queryset"] = visible_worlds(request.user, World.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorldPolicy]:
        queryset = super().get_queryset(request).select_related("world", "created_by")
        if request.user.has_perm("policies.approve_worldpolicy"):
            return queryset
        return queryset.filter(world__in=visible_worlds(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are history; deprecate by setting another default

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a stored version never changes: upload a new one (the actions still work)

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return self.inlines if obj is not None else []

    # --- columns -------------------------------------------------------------------------

    @admin.display(description="gates")
    def summary(self, obj: WorldPolicy) -> str:
        return summarize_gates(parse_policy(obj.document))

    @admin.display(boolean=True)
    def approved(self, obj: WorldPolicy) -> bool:
        return approval_state(obj, required=obj.world.approvals_required).approved

    @admin.display(description="YAML")
    def yaml_text(self, obj: WorldPolicy) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", obj.yaml)

    @admin.display(description="diff against the current default")
    def diff_against_default(self, obj: WorldPolicy) -> str:
        diff = version_diff(obj.world_id, obj.version, None) or "(identical)"
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", diff)

    # --- writes go through services --------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: WorldPolicy, form: Any, change: bool) -> None:
        user = acting_user(request)
        require_role(user, obj.world_id, Role.OWNER)
        created = upload_policy(
            actor=user,
            world_id=obj.world_id,
            source=PolicySource(text=form.cleaned_data["yaml"]),
            valid_from=form.cleaned_data.get("valid_from"),
        )
        obj.pk = created.pk

    def _each(
        self, request: HttpRequest, queryset: QuerySet[WorldPolicy], verb: str, act: Any
    ) -> None:
        for policy in queryset:
            try:
                act(policy)
            except ServiceError as exc:
                self.message_user(request, f"{policy}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{policy}: {verb}.", messages.SUCCESS)

    def _review(
        self, request: HttpRequest, queryset: QuerySet[WorldPolicy], decision: ReviewDecision
    ) -> None:
        user = acting_user(request)
        verb = "approved" if decision == ReviewDecision.APPROVE else "rejected"
        self._each(
            request,
            queryset,
            verb,
            lambda p: review_policy(
                actor=user,
                world_id=p.world_id,
                version=p.version,
                decision=decision,
                comment=f"{verb} in the admin",
            ),
        )

    @admin.action(description="Approve the selected versions", permissions=["view"])
    def approve_versions(self, request: HttpRequest, queryset: QuerySet[WorldPolicy]) -> None:
        self._review(request, queryset, ReviewDecision.APPROVE)

    @admin.action(description="Reject the selected versions", permissions=["view"])
    def reject_versions(self, request: HttpRequest, queryset: QuerySet[WorldPolicy]) -> None:
        self._review(request, queryset, ReviewDecision.REJECT)

    @admin.action(
        description="Make the selected version the world's default (or roll back)",
        permissions=["view"],
    )
    def make_default(self, request: HttpRequest, queryset: QuerySet[WorldPolicy]) -> None:
        user = acting_user(request)

        def act(policy: WorldPolicy) -> None:
            require_role(user, policy.world_id, Role.OWNER)
            set_default_version(actor=user, world_id=policy.world_id, version=policy.version)

        self._each(request, queryset, "is now the default", act)

    def response_add(
        self, request: HttpRequest, obj: WorldPolicy, post_url_continue: str | None = None
    ) -> Any:
        return HttpResponseRedirect(reverse("admin:policies_worldpolicy_change", args=[obj.pk]))
