"""The weekly board's markup, byte for byte, against a reference rendering (issue 17).

The board is rebuilt for speed now and then (rows formatted in Python, fewer queries); what it
shows must not move. A fixed world at a fixed moment is rendered for a manager (one engagement
managed, one deputized) in English and in Korean, and the page's `<main>` compared with the
reference kept beside this file. Objects carry fixed ids so the markup does not depend on the
database's sequences. After a deliberate change of the board's markup, rewrite the references
with `UPDATE_BOARD_REFERENCE=1` and review their diff.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.casework.models import Case
from cases.risks.models import Risk
from engagements.afterhours.models import AfterHoursRequest
from engagements.time.models import OverageFlag, TimeEntry
from reviews.scheduling.models import ActionItem, Occurrence
from tests.conftest import page_client
from tests.factories import EngagementFactory, MembershipFactory, UserFactory, plan

pytestmark = pytest.mark.django_db

REFERENCE = Path(__file__).parent / "golden"
NOW = datetime(2026, 3, 11, 9, 30, tzinfo=UTC)  # a Wednesday
MAIN = re.compile(r"<main\b.*?</main>", re.S)


@pytest.fixture
def frozen(monkeypatch):
    """Every `timezone.now()` (and so `localdate`, `local_today`) answers NOW."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


def _occurrence(pk, engagement, start, **extra):
    return Occurrence.objects.create(
        pk=pk,
        engagement=engagement,
        deliverable=extra.pop("deliverable", "weekly_call"),
        period=extra.pop("period", f"ref:{pk}"),
        scheduled_start=start,
        method=extra.pop("method", "video"),
        status=extra.pop("status", "scheduled"),
        **extra,
    )


def _case(pk, engagement, raised_by, **fields):
    due = fields.pop("response_due_at")
    return Case.objects.create(
        pk=pk,
        engagement=engagement,
        raised_by=raised_by,
        kind=fields.pop("kind", Case.Kind.INQUIRY),
        severity=fields.pop("severity", Case.Severity.HIGH),
        received_at=fields.pop("received_at", due - timedelta(hours=8)),
        reminder_due_at=fields.pop("reminder_due_at", due - timedelta(hours=2)),
        response_due_at=due,
        **fields,
    )


def build_board_world(world):
    """A manager's two engagements (managed, deputized) with something in every board section."""
    manager = world.manager
    manager.time_zone = "Asia/Seoul"
    manager.save()
    # The world's engagement goes to another manager: the board's engagements carry fixed ids.
    type(world.a.objects["engagement"]).objects.filter(pk=world.a.objects["engagement"].pk).update(
        manager=world.other_manager
    )
    a = EngagementFactory(
        id=990001,
        organization=world.a.organization,
        plan=plan("premium"),
        manager=manager,
        deputy=world.other_manager,
        name="Engagement A",
    )
    deputized = EngagementFactory(
        id=990002,
        organization=world.a.organization,
        plan=plan("standard"),
        manager=world.other_manager,
        deputy=manager,
        name="Data platform <support> & care",
        timezone="America/New_York",
    )
    poc, member = world.a.poc, world.a.member
    outsider = MembershipFactory(
        organization=world.a.organization,
        role="member",
        user=UserFactory(email="quote@a.test", name='Zoë "Q" O\'Neil'),
    ).user
    monday = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    _occurrence(991001, a, monday + timedelta(hours=8), status="completed")
    _occurrence(991002, a, monday + timedelta(days=1, hours=7), deliverable="service_review")
    _occurrence(991003, a, NOW + timedelta(hours=5))
    _occurrence(991004, deputized, monday + timedelta(days=3, hours=14), method="onsite")
    _occurrence(991005, a, monday + timedelta(days=8, hours=2), deliverable="maintenance")
    _occurrence(991006, deputized, monday + timedelta(days=12, hours=23))
    _occurrence(991007, a, NOW - timedelta(days=12), status="missed")
    _occurrence(991008, deputized, NOW - timedelta(days=9), status="scheduled")
    _occurrence(
        991009,
        a,
        NOW + timedelta(days=20),
        deliverable="upgrade_planning",
        period="as_needed:ref",
        requested_by=poc,
        request_note="Plan the <2027> upgrade & " + "a long note " * 10,
    )
    _occurrence(
        991010, deputized, NOW + timedelta(days=3), period="as_needed:ref2", requested_by=outsider
    )
    review = _occurrence(
        991011, a, NOW - timedelta(days=20), deliverable="service_review", status="completed"
    )
    ActionItem.objects.create(
        pk=992001,
        occurrence=review,
        description="Send logs",
        owner=member,
        due_date=date(2026, 3, 1),
    )
    ActionItem.objects.create(
        pk=992002, occurrence=review, description="Later", owner=member, due_date=date(2026, 4, 1)
    )

    # At risk, breached (one assigned, one in the provider queue), answered ones for the SLA.
    _case(
        993001,
        a,
        poc,
        subject="Slow <checkout> & more",
        response_due_at=NOW + timedelta(hours=1, minutes=20),
        assignee=manager,
    )
    _case(
        993002,
        deputized,
        poc,
        subject="Login outage",
        kind=Case.Kind.INCIDENT,
        severity=Case.Severity.CRITICAL,
        response_due_at=NOW - timedelta(days=1, hours=3),
    )
    _case(993003, a, poc, subject="Fine", response_due_at=NOW + timedelta(days=2))
    for offset, pk in enumerate(range(993010, 993016)):
        due = NOW - timedelta(days=10 + offset)
        _case(
            pk,
            a,
            member,
            subject=f"Answered {offset}",
            severity=Case.Severity.MEDIUM,
            status="resolved",
            response_due_at=due,
            first_response_at=due - timedelta(hours=1) if offset % 3 else due + timedelta(hours=1),
        )

    for weeks_back in range(0, 5):
        TimeEntry.objects.create(
            engagement=a,
            manager=manager,
            date=date(2026, 3, 9) - timedelta(weeks=weeks_back),
            minutes=11 * 60 + 15,
            activity="call",
        )
    TimeEntry.objects.create(
        engagement=deputized, manager=manager, date=date(2026, 3, 10), minutes=45, activity="call"
    )
    flag = OverageFlag.objects.create(engagement=a, average_minutes=675, cap_minutes=600)
    OverageFlag.objects.filter(pk=flag.pk).update(raised_at=NOW - timedelta(days=2))
    AfterHoursRequest.objects.create(
        pk=994001,
        engagement=a,
        requested_by=poc,
        starts_at=NOW + timedelta(days=10),
        ends_at=NOW + timedelta(days=10, hours=3),
        reason="Cutover",
    )
    Risk.objects.create(
        pk=995001,
        engagement=a,
        title="Storage <saturation>",
        likelihood=4,
        impact=5,
        score=20,
        created_by=manager,
        next_review_date=date(2026, 3, 20),
    )
    return a, deputized


def _main(body: str) -> str:
    found = MAIN.search(body)
    assert found, "the page has no <main>"
    return found.group(0)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_board_renders_as_its_reference(world, frozen, language, settings):
    build_board_world(world)
    world.manager.language = language
    world.manager.save()
    client = page_client(world.manager)
    response = client.get(reverse("weekly_board"))
    assert response.status_code == 200
    body = response.content.decode()
    main = _main(body)
    reference = REFERENCE / f"board.{language}.html"
    if os.environ.get("UPDATE_BOARD_REFERENCE"):
        reference.write_text(main, encoding="utf-8")
    assert main == reference.read_text(encoding="utf-8")
    # The live fragment is the same block of the same rendering.
    fragment = client.get(reverse("weekly_board_fragment")).content.decode()
    assert fragment.strip() and fragment in body
