"""factory_boy factories and builders that go through the services (so roles and audit exist)."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from factory.django import DjangoModelFactory

from worlds.models import World
from worlds.services.tokens import issue_token
from worlds.services.worlds import create_world


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")

    @factory.post_generation
    def permissions(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        for dotted in extracted or []:
            app_label, codename = dotted.split(".")
            self.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def make_world(*, owner: Any, world_id: str, **fields: Any) -> World:
    fields.setdefault("name", world_id.title())
    return create_world(actor=owner, world_id=world_id, **fields)


def token_for(user: Any, **kwargs: Any) -> str:
    return issue_token(user=user, actor="tests", **kwargs).secret


def override_worldservice(**changes: Any) -> Any:
    """`override_settings` for some WORLDSERVICE keys, keeping the others."""
    from django.conf import settings
    from django.test import override_settings

    return override_settings(WORLDSERVICE={**settings.WORLDSERVICE, **changes})


def unfinished_apply_run(world: World, run_id: str = "in-flight") -> Any:
    """An apply run that has not finished, as a busy worker would leave it."""
    import datetime as dt

    from django.utils import timezone

    from activation.apply.models import ApplyRun

    return ApplyRun.objects.create(
        world=world,
        run_id=run_id,
        fingerprint="sha256:0",
        request={},
        actor="tests",
        phase="freeze",
        lease_expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
