"""Row makers of the query-count harness: each adds `count` more rows of one kind to tenant A.

A maker is called twice per test (3 rows, then 27 more), gets the route's objects (the ones
its URL names, made by `registry.objects`) and returns a string only its last row puts in a
page that lists it (a name, a title), so the harness can check the rows are really shown.
Rows are made with the ORM or the services, whichever is shorter; they only need to exist.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.conftest import PNG_BYTES
from tests.factories import EngagementFactory, ManagerFactory, MembershipFactory, UserFactory

_serial = itertools.count(1)
Maker = Callable[[Any, dict[str, Any], int], str]
MAKERS: dict[str, Maker] = {}


def maker(kind: str) -> Callable[[Maker], Maker]:
    def register(function: Maker) -> Maker:
        MAKERS[kind] = function
        return function

    return register


def _engagement(world) -> Any:
    return world.a.objects["engagement"]


def _member(world, label: str) -> Any:
    return MembershipFactory(
        organization=world.a.organization,
        role="member",
        user=UserFactory(name=label, email=f"{label.lower().replace(' ', '.')}@a.test"),
    ).user


@maker("managers")
def managers(world, objects, count):
    """Provider staff: the choices of every "manager", "owner" and "assignee" select."""
    for _ in range(count):
        label = f"Staffer {next(_serial)}"
        ManagerFactory(name=label, email=f"{label.lower().replace(' ', '.')}@provider.test")
    return label


@maker("organizations")
def organizations(world, objects, count):
    from tests.factories import OrganizationFactory

    for _ in range(count):
        step = next(_serial)
        label = f"Grown Org {step}"
        OrganizationFactory(name=label, slug=f"grown-org-{step}")
    return label


@maker("clients")
def clients(world, objects, count):
    """More customer organizations the manager serves, each with an engagement and a PoC."""
    from tests.factories import OrganizationFactory

    for _ in range(count):
        step = next(_serial)
        label = f"Client {step}"
        organization = OrganizationFactory(name=label, slug=f"client-{step}")
        MembershipFactory(
            organization=organization,
            role="poc",
            user=UserFactory(name=f"Poc of {label}", email=f"poc{step}@client.test"),
        )
        EngagementFactory(
            organization=organization,
            manager=world.manager,
            deputy=_engagement(world).deputy,
            name=f"Engagement of {label}",
        )
    return label


@maker("memberships")
def memberships(world, objects, count):
    """More organizations tenant A's PoC belongs to (as a member), each with a colleague."""
    from tests.factories import OrganizationFactory

    for _ in range(count):
        step = next(_serial)
        label = f"Sister {step}"  # in the organization's name and the colleague's
        organization = OrganizationFactory(name=f"{label} Org", slug=f"sister-{step}")
        MembershipFactory(organization=organization, role="member", user=world.a.poc)
        MembershipFactory(
            organization=organization,
            role="member",
            user=UserFactory(name=f"{label} Colleague", email=f"colleague{step}@sister.test"),
        )
    return label


@maker("people")
def people(world, objects, count):
    """Members of tenant A: the choices of "person" and "owner" selects."""
    for _ in range(count):
        label = f"Person {next(_serial)}"
        _member(world, label)
    return label


@maker("contacts")
def contacts(world, objects, count):
    """Named contacts of tenant A's engagement: the choices of milestone and item owners."""
    from engagements.contacts.models import Contact

    for _ in range(count):
        label = f"Contact {next(_serial)}"
        Contact.objects.create(engagement=_engagement(world), user=_member(world, label))
    return label


@maker("engagements")
def engagements(world, objects, count):
    """More engagements of tenant A served by the manager, each naming A's PoC a contact."""
    from engagements.contacts.models import Contact
    from tests.factories import plan

    premium = plan("premium")
    for _ in range(count):
        label = f"Grown engagement {next(_serial)}"
        engagement = EngagementFactory(
            organization=world.a.organization,
            plan=premium,
            manager=world.manager,
            deputy=_engagement(world).deputy,
            name=label,
        )
        Contact.objects.create(engagement=engagement, user=world.a.poc)
    return label


@maker("cases")
def cases(world, objects, count):
    from cases.casework import services

    for _ in range(count):
        step = next(_serial)
        label = f"Grown case {step}"
        services.case_raise(
            acting_user=world.a.poc,
            engagement=_engagement(world),
            kind=("incident", "inquiry", "service_request")[step % 3],
            severity=step % 4,
            subject=label,
        )
    return label


@maker("attachments")
def attachments(world, objects, count):
    from cases.casework import services

    for _ in range(count):
        label = f"grown-{next(_serial)}.png"
        services.case_attach(
            acting_user=world.a.poc,
            case=objects["case"],
            upload=SimpleUploadedFile(label, PNG_BYTES, content_type="image/png"),
        )
    return label


@maker("time_entries")
def time_entries(world, objects, count):
    from engagements.time.models import TimeEntry

    engagement = _engagement(world)
    today = engagement.local_today()
    for _ in range(count):
        step = next(_serial)
        TimeEntry.objects.create(
            engagement=engagement,
            manager=world.manager,
            date=today - timedelta(days=step % 60),
            minutes=15 + step % 4 * 15,
            activity=("call", "case", "review")[step % 3],
            note=f"Entry {step}",
        )
    return f"Entry {step}"


@maker("conflicts")
def conflicts(world, objects, count):
    """Approved after-hours requests overlapping the route's maintenance window (and a holiday
    on its day): each one is a conflict the window shows."""
    from engagements.afterhours.models import AfterHoursRequest
    from engagements.contracts.models import EngagementHoliday

    window = objects["maintenance_window"]
    for _ in range(count):
        step = next(_serial)
        AfterHoursRequest.objects.create(
            engagement=window.engagement,
            requested_by=world.a.poc,
            starts_at=window.starts_at - timedelta(minutes=step),
            ends_at=window.starts_at + timedelta(minutes=30),
            reason=f"Overlap {step}",
            status="approved",
        )
    day = window.starts_at.astimezone(window.engagement.zone).date()
    EngagementHoliday.objects.get_or_create(engagement=window.engagement, date=day)
    # The conflicts are described by their times, not their reasons: the text shows they are.
    return "Overlaps approved after-hours support"


@maker("acknowledgements")
def acknowledgements(world, objects, count):
    from reviews.releases.models import ChangeAcknowledgement

    for _ in range(count):
        label = f"Acker {next(_serial)}"
        ChangeAcknowledgement.objects.create(change=objects["change"], user=_member(world, label))
    return label


@maker("milestones")
def milestones(world, objects, count):
    from engagements.upgrades.models import UpgradeMilestone

    for _ in range(count):
        step = next(_serial)
        label = f"Milestone {step}"
        UpgradeMilestone.objects.create(
            plan=objects["upgrade"],
            title=label,
            owner=world.a.poc if step % 2 else None,
            owner_name="" if step % 2 else "Vendor engineer",
            due_date=date(2027, 1, 1) + timedelta(days=step),
        )
    return label


@maker("action_items")
def action_items(world, objects, count):
    """Action items and attendees of the route's service review."""
    from reviews.scheduling.models import ActionItem

    review = objects["review"]
    for _ in range(count):
        label = f"Follow-up {next(_serial)}"
        owner = _member(world, f"Owner of {label}")
        ActionItem.objects.create(occurrence=review, description=label, owner=owner)
        review.attendees.add(owner)
    return label


@maker("receipts")
def receipts(world, objects, count):
    """Readers of the route's publication."""
    from reviews.publications.models import PublicationReceipt

    for _ in range(count):
        label = f"Reader {next(_serial)}"
        PublicationReceipt.objects.create(
            publication=objects["publication"], user=_member(world, label)
        )
    return label


@maker("feed_events")
def feed_events(world, objects, count):
    """Everything the calendar feed lists: sessions, maintenance windows, changes, upgrade
    milestones and risk reviews of tenant A's engagement, all within the feed's range."""
    from cases.risks.models import Risk
    from reviews.maintenance.models import MaintenanceWindow
    from reviews.releases.models import ChangeItem
    from reviews.scheduling.models import Occurrence

    engagement = _engagement(world)
    zone = ZoneInfo(engagement.timezone)
    soon = timezone.now().astimezone(zone).replace(hour=10, minute=0, second=0, microsecond=0)
    for _ in range(count):
        step = next(_serial)
        at = soon + timedelta(days=1 + step % 90)
        label = f"Feed {step}"
        Occurrence.objects.create(
            engagement=engagement,
            deliverable="service_review",
            period=f"as_needed:feed-{step}",
            scheduled_start=at,
            method="video",
        )
        MaintenanceWindow.objects.create(
            engagement=engagement, title=label, starts_at=at, ends_at=at + timedelta(hours=2)
        )
        ChangeItem.objects.create(
            engagement=engagement, title=label, kind="software", scheduled_at=at
        )
        milestones(world, objects, 1)
        Risk.objects.create(
            engagement=engagement,
            title=label,
            likelihood=3,
            impact=3,
            score=9,
            next_review_date=at.date(),
            created_by=world.manager,
        )
    return label


def feed_objects(world) -> None:
    """The upgrade plan the feed's milestones belong to."""
    from engagements.upgrades.models import UpgradePlan

    if "upgrade" not in world.a.objects:
        world.a.objects["upgrade"] = UpgradePlan.objects.create(
            engagement=_engagement(world),
            current_version="1",
            target_version="2",
            created_by=world.manager,
        )


@maker("risks")
def risks(world, objects, count):
    from cases.risks.models import Risk

    for _ in range(count):
        step = next(_serial)
        label = f"Risk {step}"
        Risk.objects.create(
            engagement=_engagement(world),
            title=label,
            likelihood=1 + step % 5,
            impact=3,
            score=3 * (1 + step % 5),
            owner=world.manager if step % 2 else None,
            created_by=world.manager,
        )
    return label


@maker("fix_requests")
def fix_requests(world, objects, count):
    from cases.fixes.models import FixRequest

    start = FixRequest.objects.count()
    for rank in range(start + 1, start + count + 1):
        label = f"Fix {next(_serial)}"
        FixRequest.objects.create(
            engagement=_engagement(world), title=label, customer_rank=rank, created_by=world.a.poc
        )
    return label


@maker("windows")
def windows(world, objects, count):
    from reviews.maintenance.models import MaintenanceWindow

    engagement = _engagement(world)
    for _ in range(count):
        step = next(_serial)
        label = f"Window {step}"
        starts_at = timezone.now() + timedelta(days=2 + step % 50)
        MaintenanceWindow.objects.create(
            engagement=engagement,
            title=label,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            created_by=world.manager,
        )
    return label


@maker("changes")
def changes(world, objects, count):
    from reviews.releases.models import ChangeAcknowledgement, ChangeItem

    for _ in range(count):
        step = next(_serial)
        label = f"Change {step}"
        change = ChangeItem.objects.create(
            engagement=_engagement(world),
            title=label,
            kind="software",
            scheduled_at=timezone.now() + timedelta(days=2 + step % 50),
            created_by=world.manager,
        )
        ChangeAcknowledgement.objects.create(change=change, user=world.a.poc)
    return label


@maker("after_hours")
def after_hours(world, objects, count):
    from engagements.afterhours.models import AfterHoursRequest

    for _ in range(count):
        step = next(_serial)
        starts_at = timezone.now() + timedelta(days=7 + step)
        AfterHoursRequest.objects.create(
            engagement=_engagement(world),
            requested_by=world.a.poc,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            reason=f"Cutover {step}",
            status=("pending", "approved", "declined")[step % 3],
        )
    return f"Cutover {step}"


@maker("saved_views")
def saved_views(world, objects, count):
    """Saved views of the case list, for each person who signs in (each sees only theirs)."""
    from cases.savedviews.models import SavedView

    for _ in range(count):
        label = f"Saved view {next(_serial)}"
        for person in (world.a.poc, world.a.member, world.manager, world.admin):
            SavedView.objects.create(owner=person, name=label, query="sort=-raised")
    return label


def _past_session(engagement, label: str) -> Any:
    """A session of `engagement` 20 days ago, marked missed (health: missed sessions)."""
    from reviews.scheduling.models import Occurrence

    return Occurrence.objects.create(
        engagement=engagement,
        deliverable="service_review",
        period=f"monthly:{label}",
        scheduled_start=timezone.now() - timedelta(days=20),
        method="video",
        status=Occurrence.Status.MISSED,
    )


@maker("overdue_action_items")
def overdue_action_items(world, objects, count):
    """Open action items of tenant A's engagement past their due date."""
    from reviews.scheduling.models import ActionItem

    engagement = _engagement(world)
    if "overdue_session" not in world.a.objects:
        world.a.objects["overdue_session"] = _past_session(engagement, "overdue")
    for _ in range(count):
        step = next(_serial)
        label = f"Overdue follow-up {step}"
        ActionItem.objects.create(
            occurrence=world.a.objects["overdue_session"],
            description=label,
            owner=world.a.poc,
            due_date=engagement.local_today() - timedelta(days=1 + step % 9),
        )
    return label


@maker("unhealthy_engagements")
def unhealthy_engagements(world, objects, count):
    """Engagements of tenant A served by the manager, each with every health factor in play: an
    open severity-0 item, a missed session with an overdue action item, logged hours."""
    from cases.casework.models import Case
    from engagements.time.models import TimeEntry
    from reviews.scheduling.models import ActionItem

    now = timezone.now()
    for _ in range(count):
        label = f"Unhealthy engagement {next(_serial)}"
        engagement = EngagementFactory(
            organization=world.a.organization,
            manager=world.manager,
            deputy=_engagement(world).deputy,
            name=label,
            timezone=("Asia/Seoul", "Europe/Berlin", "America/New_York")[len(label) % 3],
        )
        Case.objects.create(
            engagement=engagement,
            kind="incident",
            severity=0,
            subject=f"Outage at {label}",
            raised_by=world.a.poc,
            received_at=now - timedelta(days=5),
            reminder_due_at=now - timedelta(days=4),
            response_due_at=now - timedelta(days=3),
        )
        session = _past_session(engagement, label)
        ActionItem.objects.create(
            occurrence=session,
            description=f"Follow-up for {label}",
            due_date=engagement.local_today() - timedelta(days=2),
        )
        TimeEntry.objects.create(
            engagement=engagement,
            manager=world.manager,
            date=engagement.local_today() - timedelta(days=8),
            minutes=600,
            activity="call",
        )
    return label


@maker("sessions")
def sessions(world, objects, count):
    """Sessions of tenant A's engagement, past and coming, with minutes."""
    from reviews.scheduling.models import Occurrence

    engagement = _engagement(world)
    for _ in range(count):
        step = next(_serial)
        label = f"Grown session {step}"
        Occurrence.objects.create(
            engagement=engagement,
            deliverable=("service_review", "weekly_call")[step % 2],
            period=f"as_needed:grown-{step}",
            scheduled_start=timezone.now() + timedelta(days=step % 20 - 10),
            method="video",
            minutes=label,
        )
    return label


@maker("deletions")
def deletions(world, objects, count):
    """Tombstones of tenant A's deleted time entries (portal.deletions)."""
    from portal.deletions import deletion_record

    engagement = _engagement(world)
    for _ in range(count):
        step = next(_serial)
        deletion_record(
            object_type="time-entry",
            object_id=800_000 + step,
            organization_id=engagement.organization_id,
            engagement_id=engagement.pk,
        )
    return f'"object_id":{800_000 + step}'
