"""Release management (service function `release_management`, Standard and Premium): changes,
their acknowledgement by named contacts (idempotent), the list of changes still unacknowledged
close to their date, the entitlement gate, the pages and the API."""

from __future__ import annotations

import sys
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.contacts.models import Contact
from engagements.selectors import engagement_calendar
from portal.audit import AuditEntry
from portal.errors import Conflict, InvalidInput, NotAllowed, NotEntitled
from portal.notifications import Notification
from reviews.releases import services
from reviews.releases.models import ChangeAcknowledgement, ChangeItem
from reviews.releases.selectors import unacknowledged_soon
from reviews.scheduling.reminders import business_days_before
from tests.conftest import page_client, services_act_in_their_scope, signed_in
from tests.factories import ChangeItemFactory, EngagementFactory, MembershipFactory, plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


def engagement_of(world):
    return world.a.objects["engagement"]


def tsam_engagement(world):
    engagement = EngagementFactory(
        organization=world.a.organization,
        plan=plan("tsam"),
        manager=world.manager,
        name="Engagement A on-premises",
    )
    Contact.objects.create(engagement=engagement, user=world.a.poc)
    return engagement


def plan_change(world, **overrides) -> ChangeItem:
    return services.change_plan(
        acting_user=overrides.pop("acting_user", world.manager),
        engagement=overrides.pop("engagement", engagement_of(world)),
        title=overrides.pop("title", "Database 16 upgrade"),
        kind=overrides.pop("kind", "software"),
        scheduled_at=overrides.pop("scheduled_at", timezone.now() + timedelta(days=14)),
        impact="Ten minutes read-only",
        rollback_plan="Restore the snapshot",
    )


# --- Rules ---------------------------------------------------------------------------------------


def test_manager_announces_a_change_and_contacts_are_notified(world):
    change = plan_change(world)
    assert change.status == "planned" and change.created_by == world.manager
    assert Notification.objects.filter(user=world.a.poc, kind="change.planned").count() == 1
    assert AuditEntry.objects.filter(action="change.plan", object_id=str(change.pk)).exists()


def test_only_staff_announce_and_input_is_checked(world):
    for user in (world.a.poc, world.a.member, world.other_manager):
        with pytest.raises(NotAllowed):
            plan_change(world, acting_user=user)
    with pytest.raises(InvalidInput) as error:
        plan_change(world, kind="firmware")
    assert "kind" in error.value.fields
    with pytest.raises(InvalidInput) as error:
        plan_change(world, scheduled_at=timezone.now() - timedelta(hours=1))
    assert "scheduled_at" in error.value.fields


def test_acknowledgement_is_idempotent(world):
    change = plan_change(world)
    first = services.change_acknowledge(acting_user=world.a.poc, change=change)
    again = services.change_acknowledge(acting_user=world.a.poc, change=change)
    assert first.pk == again.pk
    assert ChangeAcknowledgement.objects.filter(change=change).count() == 1
    assert AuditEntry.objects.filter(action="change.acknowledge").count() == 1


def test_only_named_contacts_acknowledge(world):
    change = plan_change(world)
    for user in (world.a.member, world.manager):
        with pytest.raises(NotAllowed):
            services.change_acknowledge(acting_user=user, change=change)
    assert not ChangeAcknowledgement.objects.exists()


def test_status_transitions(world):
    change = plan_change(world)
    for status in ("scheduled", "done", "rolled_back"):
        change = services.change_update_status(
            acting_user=world.manager, change=change, status=status
        )
    assert change.status == "rolled_back"
    with pytest.raises(Conflict):
        services.change_update_status(acting_user=world.manager, change=change, status="planned")
    with pytest.raises(Conflict):
        services.change_update(acting_user=world.manager, change=change, title="Again")


def test_tsam_engagement_is_not_entitled(world):
    engagement = tsam_engagement(world)
    with pytest.raises(NotEntitled) as error:
        plan_change(world, engagement=engagement)
    assert error.value.fields == {"function": ["release_management"]}
    change = ChangeItemFactory(engagement=engagement)
    with pytest.raises(NotEntitled):
        services.change_acknowledge(acting_user=world.a.poc, change=change)


# --- Unacknowledged changes close to their date --------------------------------------------------


def test_unacknowledged_soon_lists_changes_within_three_business_days(world):
    engagement = engagement_of(world)
    second = MembershipFactory(organization=world.a.organization, role="poc").user
    Contact.objects.create(engagement=engagement, user=second)
    soon = ChangeItemFactory(
        engagement=engagement, title="Soon", scheduled_at=timezone.now() + timedelta(hours=30)
    )
    ChangeItemFactory(
        engagement=engagement, title="Later", scheduled_at=timezone.now() + timedelta(days=12)
    )
    ChangeItemFactory(
        engagement=engagement,
        title="Cancelled",
        scheduled_at=timezone.now() + timedelta(hours=30),
        status="cancelled",
    )
    listed = unacknowledged_soon([engagement])
    assert [change.title for change in listed] == ["Soon"]
    assert {user.pk for user in listed[0].pending} == {world.a.poc.pk, second.pk}
    services.change_acknowledge(acting_user=world.a.poc, change=soon)
    assert [user.pk for user in unacknowledged_soon([engagement])[0].pending] == [second.pk]
    services.change_acknowledge(acting_user=second, change=soon)
    assert unacknowledged_soon([engagement]) == []


def test_unacknowledged_soon_counts_business_days(world):
    engagement = engagement_of(world)
    calendar = engagement_calendar(engagement, with_after_hours=False)
    day = timezone.localtime(timezone.now(), engagement.zone).date() + timedelta(days=9)
    while day.weekday() != 1 or day in calendar.holidays:  # a Tuesday
        day += timedelta(days=1)
    when = datetime.combine(day, time(18), tzinfo=engagement.zone)
    change = ChangeItemFactory(engagement=engagement, scheduled_at=when)
    threshold = business_days_before(calendar, when, 3)
    assert unacknowledged_soon([engagement], now=threshold - timedelta(minutes=1)) == []
    assert unacknowledged_soon([engagement], now=threshold) == [change]


def test_unacknowledged_soon_skips_engagements_not_entitled(world):
    engagement = tsam_engagement(world)
    ChangeItemFactory(engagement=engagement, scheduled_at=timezone.now() + timedelta(hours=30))
    assert unacknowledged_soon([engagement]) == []


def test_the_board_lists_its_own_engagements_changes_still_unacknowledged(world):
    """The board's list (its statement kept across requests): the manager's and the deputy's
    engagements' changes only, a new one at the next request, gone once acknowledged."""
    engagement = engagement_of(world)
    board = reverse("weekly_board")
    as_manager, as_other = page_client(world.manager), page_client(world.other_manager)
    as_deputy = page_client(engagement.deputy)
    assert "unacknowledged-" not in as_manager.get(board).content.decode()
    soon = ChangeItemFactory(
        engagement=engagement, title="Soon", scheduled_at=timezone.now() + timedelta(hours=30)
    )
    ChangeItemFactory(
        engagement=world.b.objects["engagement"],
        title="B's change",
        scheduled_at=timezone.now() + timedelta(hours=30),
    )
    for client in (as_manager, as_deputy):
        page = client.get(board).content.decode()
        assert f'id="unacknowledged-{soon.pk}"' in page and "B&#x27;s change" not in page
    other = as_other.get(board).content.decode()
    assert f"unacknowledged-{soon.pk}" not in other and "B&#x27;s change" in other
    services.change_acknowledge(acting_user=world.a.poc, change=soon)
    assert f"unacknowledged-{soon.pk}" not in as_manager.get(board).content.decode()


def test_the_board_leaves_out_changes_of_a_plan_without_release_management(world):
    """The board's first statement asks nothing of plans; the list still keeps to the entitled
    engagements (a TSAM engagement's change made directly never shows)."""
    tsam = ChangeItemFactory(
        engagement=tsam_engagement(world),
        title="On-premises change",
        scheduled_at=timezone.now() + timedelta(hours=30),
    )
    soon = ChangeItemFactory(
        engagement=engagement_of(world), scheduled_at=timezone.now() + timedelta(hours=30)
    )
    page = page_client(world.manager).get(reverse("weekly_board")).content.decode()
    assert f'id="unacknowledged-{soon.pk}"' in page
    assert f"unacknowledged-{tsam.pk}" not in page and "On-premises change" not in page


# --- Pages ---------------------------------------------------------------------------------------


def test_manager_announces_and_sees_who_acknowledged(world):
    engagement = engagement_of(world)
    url = reverse("change_list", args=[engagement.pk])
    when = timezone.localtime(timezone.now() + timedelta(days=10))
    manager = page_client(world.manager)
    response = manager.post(
        url,
        {
            "title": "Load balancer swap",
            "kind": "architecture",
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
            "impact": "One failover",
            "rollback_plan": "Swap back",
        },
    )
    assert response.status_code == 302
    change = ChangeItem.objects.get(title="Load balancer swap")
    poc = page_client(world.a.poc)
    body = poc.get(url).content.decode()
    assert "Load balancer swap" in body and "Announce the change" not in body
    acknowledge = reverse("change_acknowledge", args=[engagement.pk, change.pk])
    assert poc.post(acknowledge).status_code == 302
    assert poc.post(acknowledge).status_code == 302  # again: nothing changes
    assert ChangeAcknowledgement.objects.filter(change=change).count() == 1
    assert "You acknowledged it" in poc.get(url).content.decode()
    body = manager.get(url).content.decode()
    assert world.a.poc.name in body


def test_member_cannot_acknowledge_or_announce(world):
    engagement = engagement_of(world)
    change = plan_change(world)
    client = page_client(world.a.member)
    assert client.post(reverse("change_list", args=[engagement.pk]), {}).status_code == 403
    response = client.post(reverse("change_acknowledge", args=[engagement.pk, change.pk]))
    assert response.status_code == 403
    assert client.get(reverse("change_edit", args=[engagement.pk, change.pk])).status_code == 403


def test_manager_edits_and_schedules_through_the_pages(world):
    engagement = engagement_of(world)
    change = plan_change(world)
    client = page_client(world.manager)
    when = timezone.localtime(change.scheduled_at + timedelta(days=1))
    response = client.post(
        reverse("change_edit", args=[engagement.pk, change.pk]),
        {
            "title": "Database 16.2 upgrade",
            "kind": "software",
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    client.post(reverse("change_status", args=[engagement.pk, change.pk]), {"status": "scheduled"})
    change.refresh_from_db()
    assert change.title == "Database 16.2 upgrade" and change.status == "scheduled"


def test_pages_hide_changes_for_tsam(world):
    engagement = tsam_engagement(world)
    change = ChangeItemFactory(engagement=engagement)
    client = page_client(world.a.poc)
    assert client.get(reverse("change_list", args=[engagement.pk])).status_code == 403
    response = client.post(reverse("change_acknowledge", args=[engagement.pk, change.pk]))
    assert response.status_code == 403
    assert not ChangeAcknowledgement.objects.exists()


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _grow(world, n: int) -> None:
    engagement = engagement_of(world)
    for step in range(n):
        change = ChangeItemFactory(
            engagement=engagement,
            scheduled_at=timezone.now() + timedelta(days=2 + step),
            created_by=world.manager,
        )
        ChangeAcknowledgement.objects.create(change=change, user=world.a.poc)


@pytest.mark.parametrize("role", ["poc", "member", "manager"])
def test_list_page_issues_constant_queries(world, role):
    url = reverse("change_list", args=[engagement_of(world).pk])
    client = page_client(world.user(role))
    client.get(url)
    _grow(world, 3)
    few = _count(client, url)
    _grow(world, 27)
    assert _count(client, url) == few


def test_api_list_issues_constant_queries(world):
    client = signed_in(world.manager)
    url = "/api/v1/changes/"
    client.get(url)
    _grow(world, 3)
    few = _count(client, url)
    _grow(world, 27)
    assert _count(client, url) == few


def test_unacknowledged_soon_issues_constant_queries(world):
    engagement = engagement_of(world)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            unacknowledged_soon([engagement])
        return len(captured)

    for _step in range(3):
        ChangeItemFactory(engagement=engagement, scheduled_at=timezone.now() + timedelta(hours=30))
    few = count()
    for _step in range(27):
        ChangeItemFactory(engagement=engagement, scheduled_at=timezone.now() + timedelta(hours=30))
    assert count() == few


# --- API -----------------------------------------------------------------------------------------


def _payload(engagement) -> dict:
    return {
        "engagement": engagement.pk,
        "title": "Kubernetes 1.31",
        "kind": "platform",
        "scheduled_at": (timezone.now() + timedelta(days=9)).isoformat(),
        "impact": "Pods restart",
        "rollback_plan": "Pin the previous version",
    }


def test_api_announce_acknowledge_and_see_who(world):
    manager = signed_in(world.manager)
    response = manager.post("/api/v1/changes/", _payload(engagement_of(world)), format="json")
    assert response.status_code == 201, response.json()
    change_id = response.json()["id"]
    poc = signed_in(world.a.poc)
    first = poc.post(f"/api/v1/changes/{change_id}/acknowledge/")
    again = poc.post(f"/api/v1/changes/{change_id}/acknowledge/")
    assert first.status_code == again.status_code == 200
    assert first.json()["acknowledged_by_me"] is True
    assert first.json()["acknowledgements"] == again.json()["acknowledgements"]
    acknowledgements = manager.get(f"/api/v1/changes/{change_id}/").json()["acknowledgements"]
    assert [row["user"] for row in acknowledgements] == [world.a.poc.pk]
    member = signed_in(world.a.member).post(f"/api/v1/changes/{change_id}/acknowledge/")
    assert member.status_code == 403 and member.json()["code"] == "permission_denied"
    patched = manager.patch(f"/api/v1/changes/{change_id}/", {"status": "scheduled"}, format="json")
    assert patched.status_code == 200 and patched.json()["status"] == "scheduled"


def test_api_customers_cannot_announce(world):
    response = signed_in(world.a.poc).post(
        "/api/v1/changes/", _payload(engagement_of(world)), format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_api_tsam_engagement_is_not_entitled(world):
    engagement = tsam_engagement(world)
    client = signed_in(world.manager)
    response = client.post("/api/v1/changes/", _payload(engagement), format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"
    hidden = ChangeItemFactory(engagement=engagement)
    shown = plan_change(world)
    rows = client.get("/api/v1/changes/").json()["results"]
    assert [row["id"] for row in rows] == [shown.pk]
    named = client.get(f"/api/v1/changes/?engagement={engagement.pk}")
    assert named.status_code == 403 and named.json()["code"] == "not_entitled"
    acknowledge = signed_in(world.a.poc).post(f"/api/v1/changes/{hidden.pk}/acknowledge/")
    assert acknowledge.status_code == 403 and acknowledge.json()["code"] == "not_entitled"


def test_api_filters_by_engagement_status_and_kind(world):
    software = plan_change(world)
    platform = plan_change(world, kind="platform", title="Platform")
    services.change_update_status(acting_user=world.manager, change=platform, status="scheduled")
    client = signed_in(world.a.poc)
    base = f"/api/v1/changes/?engagement={engagement_of(world).pk}"
    assert [row["id"] for row in client.get(f"{base}&status=planned").json()["results"]] == [
        software.pk
    ]
    assert [row["id"] for row in client.get(f"{base}&kind=platform").json()["results"]] == [
        platform.pk
    ]


def test_board_include_lists_unacknowledged_changes(world):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from portal.tenancy.scoping import tenant_scope

    soon = ChangeItemFactory(
        engagement=engagement_of(world),
        title="Soon",
        scheduled_at=timezone.now() + timedelta(hours=30),
    )
    ChangeItemFactory(
        engagement=world.b.objects["engagement"],
        title="Tenant B change",
        scheduled_at=timezone.now() + timedelta(hours=30),
    )
    request = RequestFactory().get("/board/")
    request.user = world.manager
    with tenant_scope(world.manager):
        html = render_to_string("reviews/releases/_unacknowledged_changes.html", request=request)
    assert f'id="unacknowledged-{soon.pk}"' in html and world.a.poc.name in html
    assert "Tenant B change" not in html
    request.user = world.a.poc
    with tenant_scope(world.a.poc):
        assert "Soon" not in render_to_string(
            "reviews/releases/_unacknowledged_changes.html", request=request
        )
