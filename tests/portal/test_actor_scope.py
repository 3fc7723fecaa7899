"""The default scope of a test: a service or selector called for a user runs in that user's scope.

The arrangement's system scope sees every tenant, so a query that forgets the scope (or crosses
it) would pass there; the tests of services and selectors must see what the actor sees."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil

from engagements.contacts import selectors as contact_selectors
from engagements.models import Engagement
from portal.tenancy.scoping import get_scope_or_none
from tests.conftest import (
    ACTING_MODULES,
    ARRANGEMENT,
    World,
    _actor_parameter,
    _in_the_actors_scope,
)


def _acting_functions() -> list[str]:
    names = []
    for package_name in ("portal", "engagements", "cases", "reviews"):
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if info.name.rsplit(".", 1)[-1] not in ACTING_MODULES:
                continue
            module = importlib.import_module(info.name)
            for name, function in vars(module).items():
                if (
                    inspect.isfunction(function)
                    and inspect.unwrap(function).__module__ == module.__name__
                    and _actor_parameter(function) is not None
                ):
                    names.append(f"{module.__name__}.{name}")
    return names


def test_every_service_and_selector_with_an_actor_runs_in_the_actors_scope() -> None:
    functions = _acting_functions()
    assert len(functions) > 100, functions  # the walk found the apps' services and selectors
    unwrapped = [
        name
        for name in functions
        if not getattr(
            getattr(importlib.import_module(name.rsplit(".", 1)[0]), name.rsplit(".", 1)[1]),
            "__wrapped_for_actor__",
            False,
        )
    ]
    assert unwrapped == []


def test_a_query_that_forgets_the_scope_turns_red_in_the_actors_scope(world: World) -> None:
    """The mutation the review made: a read that counts every tenant's rows. In the arrangement's
    scope it sees both tenants; called for tenant A's PoC it must see A's engagement alone."""

    def engagements_of(*, viewer: object) -> set[str]:
        return set(Engagement.objects.values_list("name", flat=True))

    assert get_scope_or_none().reason == ARRANGEMENT  # type: ignore[union-attr]
    assert engagements_of(viewer=world.a.poc) == {"Engagement A", "Engagement B"}
    assert _in_the_actors_scope(engagements_of)(viewer=world.a.poc) == {"Engagement A"}


def test_a_selector_called_from_a_test_body_sees_the_viewers_scope(world: World) -> None:
    seen: list[object] = []
    original = inspect.unwrap(contact_selectors.require_staff_or_contact)

    @functools.wraps(original)
    def probe(*args: object, **kwargs: object) -> object:
        seen.append(get_scope_or_none())
        return original(*args, **kwargs)

    wrapped = _in_the_actors_scope(probe)
    engagement = world.a.objects["engagement"]
    wrapped(world.a.poc, engagement, "not yours")
    scope = seen[0]
    assert scope is not None and scope.reason != ARRANGEMENT


# --- People: the same scoping path as tenant-owned rows ------------------------------------


def test_people_are_scoped_by_the_open_scope_and_refuse_with_none(world: World) -> None:
    import pytest

    from portal.accounts.models import User
    from portal.tenancy.scoping import ScopeError, activate, deactivate
    from tests.conftest import acting_as

    with acting_as(world.a.poc):
        seen = set(User.visible.values_list("email", flat=True))
    assert {"poc@a.test", "member@a.test", "manager@provider.test"} <= seen
    assert not seen & {"poc@b.test", "member@b.test", "other.manager@provider.test"}
    with acting_as(world.manager):
        seen = set(User.visible.values_list("email", flat=True))
    assert {"poc@a.test", "other.manager@provider.test"} <= seen
    assert "poc@b.test" not in seen
    with acting_as(world.admin):
        assert User.visible.filter(email="poc@b.test").exists()
    token = activate(None)
    try:
        with pytest.raises(ScopeError):
            list(User.visible.all())
    finally:
        deactivate(token)
