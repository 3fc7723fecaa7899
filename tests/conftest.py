"""Fixtures shared by every test: two tenants, people of every role, signed-in clients."""

from __future__ import annotations

import functools
import inspect
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from portal.tenancy.scoping import Scope, get_scope_or_none, system_scope, tenant_scope
from tests.factories import (
    AdminFactory,
    ManagerFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


# The real OpenID Connect provider of the single sign-on tests (tests/sso, tests/browser).
pytest_plugins = ["tests.sso.provider"]


def need_service(available: bool, what: str) -> None:
    """Skip when a service is missing locally; fail under REQUIRE_SERVICES=1 (CI)."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available.")
    pytest.skip(f"{what} is not available here.")


@pytest.fixture
def require_postgres() -> None:
    need_service(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def require_redis() -> None:
    from django.conf import settings

    need_service(bool(settings.REDIS_URL), "Redis (set REDIS_URL)")


@pytest.fixture
def require_chromium() -> None:
    need_service(
        shutil.which("chromium") is not None or os.path.exists("/usr/bin/chromium"),
        "Debian's chromium",
    )


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    from engagements.catalog.selectors import forget_local_catalog
    from portal.api.authentication import forget_tokens
    from portal.tenancy.scoping import forget_compiled_statements

    cache.clear()
    forget_tokens()  # the tokens each process keeps for a second (portal/api/authentication.py)
    forget_compiled_statements()  # and the statements it keeps (portal.tenancy.scoping)
    forget_local_catalog()  # and its catalog of the last second (engagements.catalog.selectors)
    yield


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language, whatever one before it activated (a Korean
    page render or `translation.activate("ko")` must not leak into the next test's messages)."""
    translation.deactivate()
    yield
    translation.deactivate()


ARRANGEMENT = "test arrangement"


@pytest.fixture(autouse=True)
def _system_scope_for_test_bodies(request: pytest.FixtureRequest) -> Iterator[None]:
    """Test bodies and fixtures ARRANGE data as the system; requests open their own scopes.

    The rule: whatever a test calls to be tested (a service, a selector) runs in the scope
    of the one who acts, never in this one, which sees every tenant and so hides a query that
    forgets the scope or crosses it. Every service and selector of the apps that takes its
    actor does so by default (`_every_service_and_selector_acts_in_its_actors_scope`); a
    selector that reads the current scope is called inside `acting_as(user)`."""
    if "no_system_scope" in request.keywords:
        yield
        return
    with system_scope(ARRANGEMENT):
        yield


@contextmanager
def acting_as(user: Any) -> Iterator[Scope]:
    """The scope TenantScopeMiddleware opens for `user` signed in (the API opens the same for
    a token's owner): what the code under test sees in production."""
    with tenant_scope(user) as scope:
        yield scope


# The parameter naming the one who acts, in the order a function is searched for it: services
# take `acting_user`, selectors the `viewer` or `user` they read for.
ACTOR_PARAMETERS = ("acting_user", "viewer", "actor", "user")


def _actor_parameter(function: Any) -> str | None:
    parameters = inspect.signature(function).parameters
    return next((name for name in ACTOR_PARAMETERS if name in parameters), None)


def _in_the_actors_scope(function: Any) -> Any:
    parameter = _actor_parameter(function)
    signature = inspect.signature(function)

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        scope = get_scope_or_none()
        arranging = scope is not None and scope.reason == ARRANGEMENT
        if not arranging or parameter is None:
            return function(*args, **kwargs)
        try:
            actor = signature.bind_partial(*args, **kwargs).arguments.get(parameter)
        except TypeError:
            return function(*args, **kwargs)  # let the call itself raise its own TypeError
        # Only the test's own call switches scope: one service calling another stays in the
        # caller's scope, as in production. No signed-in user is inactive: such a call stays
        # in the arrangement's scope to see the service refuse it.
        if not getattr(actor, "is_authenticated", False) or not actor.is_active:
            return function(*args, **kwargs)
        with acting_as(actor):
            return function(*args, **kwargs)

    run.__wrapped_for_actor__ = True  # type: ignore[attr-defined]
    return run


ACTING_MODULES = ("services", "selectors")


def _every_service_and_selector_acts_in_its_actors_scope() -> None:
    """The default for every test: a service or selector of the apps, called from a test body,
    runs in the scope of the user it is called for (its `acting_user`, `viewer` or `user`),
    as TenantScopeMiddleware would open it, never in the arrangement's system scope. Installed
    once, before test modules import them by name; calls between app modules keep the names
    they imported, so one service calling another stays in its caller's scope."""
    import importlib
    import pkgutil

    for package_name in ("portal", "engagements", "cases", "reviews"):
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if info.name.rsplit(".", 1)[-1] not in ACTING_MODULES:
                continue
            module = importlib.import_module(info.name)
            for name, function in list(vars(module).items()):
                if (
                    inspect.isfunction(function)
                    and function.__module__ == module.__name__
                    and not getattr(function, "__wrapped_for_actor__", False)
                    and _actor_parameter(function) is not None
                ):
                    setattr(module, name, _in_the_actors_scope(function))


_every_service_and_selector_acts_in_its_actors_scope()


def services_act_in_their_scope(monkeypatch: pytest.MonkeyPatch, *modules: ModuleType) -> None:
    """Every function of `modules` taking `acting_user` runs in that user's scope when a test
    calls it through the module (`services.case_raise(...)`). Pass a test module itself
    (`sys.modules[__name__]`) to do the same for the services it imported by name and for the
    app modules it imported (`from cases import services_functions`)."""
    walked: set[str] = set()
    for module in modules:
        if module.__name__ in walked:
            continue
        walked.add(module.__name__)
        test_module = module.__name__.startswith("tests.")
        if test_module:
            imported = [
                value
                for value in vars(module).values()
                if isinstance(value, ModuleType)
                and value.__name__.split(".")[0] in ("portal", "engagements", "cases", "reviews")
            ]
            services_act_in_their_scope(monkeypatch, *imported)
        for name, function in list(vars(module).items()):
            if (
                inspect.isfunction(function)
                and (test_module or function.__module__ == module.__name__)
                and not function.__module__.startswith("tests.")
                and "acting_user" in inspect.signature(function).parameters
            ):
                monkeypatch.setattr(module, name, _in_the_actors_scope(function))


@dataclass
class Tenant:
    organization: Any
    poc: Any
    member: Any
    objects: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    a: Tenant
    b: Tenant
    admin: Any
    manager: Any
    other_manager: Any

    def user(self, role: str) -> Any:
        return {
            "poc": self.a.poc,
            "member": self.a.member,
            "manager": self.manager,
            "admin": self.admin,
        }[role]


def make_tenant(label: str, *, manager: Any, deputy: Any, plan_code: str) -> Tenant:
    organization = OrganizationFactory(name=f"Tenant {label} Corporation", slug=f"tenant-{label}")
    poc = MembershipFactory(
        organization=organization,
        role="poc",
        user=UserFactory(email=f"poc@{label}.test", name=f"Poc {label.upper()}"),
    ).user
    member = MembershipFactory(
        organization=organization,
        role="member",
        user=UserFactory(email=f"member@{label}.test", name=f"Member {label.upper()}"),
    ).user
    give_logo(organization)
    from engagements.contacts.models import Contact
    from tests.factories import EngagementFactory, plan

    engagement = EngagementFactory(
        organization=organization,
        plan=plan(plan_code),
        manager=manager,
        deputy=deputy,
        name=f"Engagement {label.upper()}",
    )
    Contact.objects.create(engagement=engagement, user=poc)
    return Tenant(
        organization=organization, poc=poc, member=member, objects={"engagement": engagement}
    )


@pytest.fixture
def world(db: None) -> World:
    """Tenant A (whose people sign in) and tenant B (whose data must never show).

    Each has an engagement (A: Premium, B: Standard); `manager` serves only A's and
    `other_manager` only B's, so a manager is "tenant A" too. A's PoC is a named contact.
    """
    manager = ManagerFactory(email="manager@provider.test", name="Max Manager")
    other_manager = ManagerFactory(email="other.manager@provider.test", name="Olga Other")
    a_deputy = ManagerFactory(email="deputy.a@provider.test", name="Dora Deputy")
    b_deputy = ManagerFactory(email="deputy.b@provider.test", name="Bert Deputy")
    return World(
        a=make_tenant("a", manager=manager, deputy=a_deputy, plan_code="premium"),
        b=make_tenant("b", manager=other_manager, deputy=b_deputy, plan_code="standard"),
        admin=AdminFactory(email="admin@provider.test", name="Ada Admin"),
        manager=manager,
        other_manager=other_manager,
    )


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def passed_totp(client: Client, user: Any) -> None:
    """`force_login` skips allauth's sign-in steps; a provider admin's session counts only once
    it passed the TOTP step (portal.accounts.middleware), so record that step as allauth does."""
    if not user.is_provider_admin:
        return
    from allauth.account.internal.flows.login import record_authentication
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = client.session
    record_authentication(request, user, "mfa", type="totp")
    request.session.save()


def signed_in(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    passed_totp(client, user)
    return client


def page_client(user: Any) -> Client:
    """A signed-in client that posts forms the way a browser does."""
    client = Client()
    client.force_login(user)
    passed_totp(client, user)
    return client


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploads of a test go to a folder of their own."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def give_logo(organization: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portal.tenancy.services import organization_set_logo

    organization_set_logo(
        acting_user=None,
        organization=organization,
        upload=SimpleUploadedFile("logo.png", PNG_BYTES, content_type="image/png"),
    )


@pytest.fixture(autouse=True)
def _catalog_seeded(request: pytest.FixtureRequest) -> None:
    """The SPEC catalog comes from a data migration; a transactional test's flush removes it,
    so tests after one would see no plans. Re-seed it (idempotently) when it is gone."""
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db", "world"} & set(request.fixturenames)
    if not uses_db:
        return
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from engagements.catalog.models import Plan

    if not Plan.objects.exists():
        import importlib

        from django.apps import apps

        importlib.import_module("engagements.migrations.0002_seed_catalog").seed(apps, None)
        importlib.import_module("engagements.migrations.0009_fill_catalog_korean_names").fill(apps)


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[Any]:
    """A real SMTP server in the test process that Django's SMTP backend sends to."""
    from tests.smtp import SmtpSink

    sink = SmtpSink().start()
    for name, value in sink.django_settings().items():
        setattr(settings, name, value)
    try:
        yield sink
    finally:
        sink.stop()
