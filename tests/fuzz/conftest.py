"""Data for the API fuzzer: two tenants with a row of every kind, tenant B's text marked.

Tenant A's people (and A's service manager, who serves only A's engagement) sign in with API
tokens; tenant B's rows carry `MARKER` in every free-text column, so a response of theirs that
shows any of B's text is caught by a substring test. The rows come from the isolation harness's
builders (tests/isolation/routes_*.py), which give both tenants an object of every routed kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, models

import tests.isolation.routes
import tests.isolation.routes_cases_api
import tests.isolation.routes_cases_pages
import tests.isolation.routes_cases_risks_fixes
import tests.isolation.routes_catalog
import tests.isolation.routes_engagements_api
import tests.isolation.routes_engagements_pages
import tests.isolation.routes_engagements_profile_advocacy_upgrades
import tests.isolation.routes_reviews_api
import tests.isolation.routes_reviews_maintenance_releases
import tests.isolation.routes_reviews_news_enablement_consulting
import tests.isolation.routes_reviews_pages
import tests.isolation.routes_reviews_reports  # noqa: F401
from portal.accounts.services import api_token_create
from portal.tenancy.scoping import TenantOwned
from tests.isolation.harness import REGISTRY

MARKER = "ZZ-TENANT-B-MARKER"
# Free-text columns that are codes read by the application (time zones, holiday calendars,
# cadence and delivery codes, MIME types): marking them would break tenant B's own pages, which
# the provider admin's fuzzing reads; none of them is text that identifies the tenant.
CODE_COLUMNS = frozenset(
    {
        "timezone",
        "holiday_country",
        "deliverable",
        "period",
        "method",
        "content_type",
        "delivery_method",
    }
)


@dataclass
class FuzzData:
    world: Any
    tokens: dict[str, str] = field(default_factory=dict)
    # model label -> ids of tenant B's rows (and tenant B's customer users under "accounts.User")
    b_ids: dict[str, frozenset[int]] = field(default_factory=dict)
    # model label -> ids of both tenants' rows: the path parameters the fuzzer may pick
    known_ids: dict[str, tuple[int, ...]] = field(default_factory=dict)
    marked_columns: int = 0


def _build_rows(world: Any) -> None:
    """Run every isolation builder for both tenants: each gives them its kind of object."""
    for tenant in (world.a, world.b):
        tenant.objects["token"], _plain = api_token_create(
            user=tenant.poc, name=f"token of {tenant.organization.name}", scopes=["read"]
        )
    for route in REGISTRY.values():
        if route.kind == "exempt":
            continue
        for tenant in (world.a, world.b):
            route.kwargs(world, tenant)
            if route.marker is not None:
                route.marker(world, tenant)


def _more_rows(world: Any) -> None:
    """Kinds the isolation builders do not make: a holiday, a root-cause analysis, a change
    acknowledgement (by the tenant's PoC), a tombstone, a rating of a resolution, an inbound
    e-mail's record, so their text and ids are in the check too."""
    import datetime

    from django.utils import timezone

    from cases.casework.models import RootCauseAnalysis
    from cases.mailin.models import InboundMessage
    from cases.satisfaction.models import CaseRating
    from engagements.contracts.models import EngagementHoliday
    from portal.deletions import deletion_record
    from reviews.releases.models import ChangeAcknowledgement

    for tenant in (world.a, world.b):
        EngagementHoliday.objects.create(
            engagement=tenant.objects["engagement"],
            date=datetime.date(2027, 5, 5),
            name=f"Founders' day of {tenant.organization.name}",
        )
        RootCauseAnalysis.objects.create(
            case=tenant.objects["case"],
            findings=f"Findings at {tenant.organization.name}",
            corrective_actions="Replace the toner",
            delivery_method="email",
            delivered_at=timezone.now(),
        )
        ChangeAcknowledgement.objects.create(change=tenant.objects["change"], user=tenant.poc)
        deletion_record(  # a tombstone (portal.deletions) of a deleted time entry
            object_type="time-entry",
            object_id=tenant.objects["engagement"].pk * 1000,
            organization_id=tenant.organization.pk,
            engagement_id=tenant.objects["engagement"].pk,
        )
        CaseRating.objects.create(
            case=tenant.objects["case"],
            score=4,
            comment=f"Rated at {tenant.organization.name}",
            rated_by=tenant.poc,
        )
        InboundMessage.objects.create(  # the record of an e-mail that raised the case
            message_key=f"id:<fuzz-{tenant.organization.pk}@customer.test>",
            sender=tenant.poc.email,
            subject=f"Mail from {tenant.organization.name}",
            outcome="created_case",
            organization=tenant.organization,
            engagement=tenant.objects["engagement"],
            case=tenant.objects["case"],
        )


def _mark(value: str, max_length: int | None, pk: int) -> str:
    marked = f"{MARKER}-{pk}-{value}"
    return marked[:max_length] if max_length else marked


def _mark_tenant_b(world: Any) -> tuple[dict[str, frozenset[int]], int]:
    """Put MARKER into every free-text column of tenant B's rows; return B's ids per model."""
    b_ids: dict[str, frozenset[int]] = {}
    marked = 0
    organization_id = world.b.organization.pk
    for model in apps.get_models():
        if not issubclass(model, TenantOwned):
            continue
        rows = model._default_manager.filter(**{model.tenant_path: organization_id})
        b_ids[model._meta.label] = frozenset(rows.values_list("pk", flat=True))
        columns = [
            column
            for column in model._meta.concrete_fields
            if isinstance(column, models.CharField | models.TextField)
            and not column.choices
            and column.name not in CODE_COLUMNS
            and (column.max_length is None or column.max_length > len(MARKER) + 8)
        ]
        for row in rows:
            for column in columns:
                setattr(
                    row,
                    column.attname,
                    _mark(getattr(row, column.attname) or "", column.max_length, row.pk),
                )
            if columns:
                # A plain UPDATE: no save() side effects (history, audit, notifications).
                model._base_manager.filter(pk=row.pk).update(
                    **{column.attname: getattr(row, column.attname) for column in columns}
                )
                marked += len(columns)
    from portal.accounts.models import User

    for person in (world.b.poc, world.b.member):
        User.objects.filter(pk=person.pk).update(
            name=f"{MARKER} {person.name}",
            email=f"{MARKER.lower()}.{person.email}",
        )
    b_ids["accounts.User"] = frozenset({world.b.poc.pk, world.b.member.pk})
    return b_ids, marked


def _known_ids(world: Any) -> dict[str, tuple[int, ...]]:
    known: dict[str, set[int]] = defaultdict(set)
    organizations = (world.a.organization.pk, world.b.organization.pk)
    for model in apps.get_models():
        if issubclass(model, TenantOwned):
            rows = model._default_manager.filter(**{f"{model.tenant_path}__in": organizations})
            known[model._meta.label].update(rows.values_list("pk", flat=True))
    from portal.accounts.models import User

    known["accounts.User"].update(User.objects.values_list("pk", flat=True))
    for label in ("engagements.Plan", "engagements.ServiceFunction", "reviews.Publication"):
        model = apps.get_model(label)
        known[label].update(model._default_manager.values_list("pk", flat=True)[:20])
    return {label: tuple(sorted(ids)) for label, ids in known.items()}


@pytest.fixture
def fuzz_data(world: Any, settings: Any) -> FuzzData:
    """Both tenants' rows, tenant B's marked, and a read-write token for each signing-in role."""
    _build_rows(world)
    _more_rows(world)
    data = FuzzData(world=world)
    data.b_ids, data.marked_columns = _mark_tenant_b(world)
    data.known_ids = _known_ids(world)
    for role in ("admin", "manager", "poc", "member"):
        _token, plain = api_token_create(
            user=world.user(role), name=f"fuzzer {role}", scopes=["read", "write"]
        )
        data.tokens[role] = plain
    return data


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Requests through the WSGI app run inside the test's transaction, as Django's test client
    does: the request signals must not close the connection between requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def unthrottled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzzer sends thousands of requests a minute as one user: raise DRF's rates (read
    once, at import) so throttling does not turn the run into a wall of 429s."""
    from rest_framework.throttling import SimpleRateThrottle

    rates = {scope: "1000000/min" for scope in SimpleRateThrottle.THROTTLE_RATES}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
