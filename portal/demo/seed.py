"""The demo data set that `make run` loads: one organization per tier, staff and customers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.tenancy.models import Membership, Organization
from portal.tenancy.scoping import system_scope

if TYPE_CHECKING:
    from engagements.contracts.models import Engagement

DEMO_PASSWORD = "portal-demo-2026"
# A fixed secret so the printed admin login works without scanning a QR code first.
DEMO_ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    kind: str
    organization: str | None = None
    role: str | None = None
    language: str = "en"
    time_zone: str = "UTC"


DEMO_ORGANIZATIONS = [
    # slug, name, the tier its engagement takes, zone, holiday country, language, manager, deputy
    (
        "hanbit",
        "Hanbit Heavy Industries",
        "tsam",
        "Asia/Seoul",
        "KR",
        "ko",
        "minji.park@portal.example",
        "sam.lee@portal.example",
    ),
    (
        "northwind",
        "Northwind Logistics",
        "standard",
        "Europe/Berlin",
        "DE",
        "en",
        "sam.lee@portal.example",
        "minji.park@portal.example",
    ),
    (
        "globex",
        "Globex Pharmaceuticals",
        "premium",
        "America/New_York",
        "US",
        "en",
        "minji.park@portal.example",
        "sam.lee@portal.example",
    ),
]
# Minutes a week the manager spent on each engagement over the last five weeks (Globex runs
# over its 10-hour cap, so the demo shows an overage flag).
DEMO_WEEKLY_MINUTES = {
    "hanbit": [420, 510, 480, 390, 300],
    "northwind": [120, 90, 150, 60, 45],
    "globex": [690, 720, 660, 705, 240],
}

DEMO_PEOPLE = [
    DemoPerson("admin@portal.example", "Ada Admin", User.Kind.ADMIN),
    DemoPerson(
        "minji.park@portal.example",
        "Minji Park",
        User.Kind.MANAGER,
        language="ko",
        time_zone="Asia/Seoul",
    ),
    DemoPerson(
        "sam.lee@portal.example", "Sam Lee", User.Kind.MANAGER, time_zone="America/New_York"
    ),
    DemoPerson(
        "jiwoo.kim@hanbit.example",
        "Jiwoo Kim",
        User.Kind.CUSTOMER,
        "hanbit",
        "poc",
        "ko",
        "Asia/Seoul",
    ),
    DemoPerson(
        "hyun.cho@hanbit.example",
        "Hyun Cho",
        User.Kind.CUSTOMER,
        "hanbit",
        "member",
        "ko",
        "Asia/Seoul",
    ),
    DemoPerson(
        "nora.berg@northwind.example",
        "Nora Berg",
        User.Kind.CUSTOMER,
        "northwind",
        "poc",
        time_zone="Europe/Berlin",
    ),
    DemoPerson(
        "ole.lund@northwind.example",
        "Ole Lund",
        User.Kind.CUSTOMER,
        "northwind",
        "member",
        time_zone="Europe/Berlin",
    ),
    DemoPerson(
        "grace.hill@globex.example",
        "Grace Hill",
        User.Kind.CUSTOMER,
        "globex",
        "poc",
        time_zone="America/New_York",
    ),
    DemoPerson(
        "raj.patel@globex.example",
        "Raj Patel",
        User.Kind.CUSTOMER,
        "globex",
        "poc",
        time_zone="America/New_York",
    ),
    DemoPerson(
        "li.wei@globex.example",
        "Li Wei",
        User.Kind.CUSTOMER,
        "globex",
        "member",
        time_zone="America/New_York",
    ),
]


@transaction.atomic
def seed_demo() -> list[DemoPerson]:
    """Create or refresh the demo data; running it again changes nothing."""
    import importlib

    from django.apps import apps

    # The catalog in both languages (the migration fills it; a catalog re-seeded since has not).
    importlib.import_module("engagements.migrations.0009_fill_catalog_korean_names").fill(apps)
    with system_scope("seed the demo data set"):
        organizations = {}
        for slug, name, *_rest in DEMO_ORGANIZATIONS:
            organizations[slug], _ = Organization.objects.get_or_create(
                slug=slug, defaults={"name": name}
            )
        for person in DEMO_PEOPLE:
            user, created = User.objects.get_or_create(
                email=person.email,
                defaults={
                    "name": person.name,
                    "kind": person.kind,
                    "language": person.language,
                    "time_zone": person.time_zone,
                    "is_superuser": person.kind == User.Kind.ADMIN,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            EmailAddress.objects.get_or_create(
                user=user, email=person.email, defaults={"primary": True, "verified": True}
            )
            if person.organization:
                Membership.objects.get_or_create(
                    user=user,
                    organization=organizations[person.organization],
                    defaults={"role": person.role},
                )
            if (
                person.kind == User.Kind.ADMIN
                and not Authenticator.objects.filter(
                    user=user, type=Authenticator.Type.TOTP
                ).exists()
            ):
                TOTP.activate(user, DEMO_ADMIN_TOTP_SECRET)
        _seed_engagements(organizations)
    return DEMO_PEOPLE


def _seed_engagements(organizations: dict[str, Organization]) -> None:
    from engagements.absences.models import Absence
    from engagements.catalog.models import Plan
    from engagements.contacts.models import Contact
    from engagements.contracts.models import Engagement
    from engagements.time.models import TimeEntry
    from engagements.time.selectors import week_start
    from engagements.time.services import overage_evaluate
    from reviews.scheduling.scheduler import schedule_engagement

    today = timezone.now().date()
    users = {user.email: user for user in User.objects.all()}
    for slug, _name, tier, zone, country, language, manager, deputy in DEMO_ORGANIZATIONS:
        organization = organizations[slug]
        engagement, created = Engagement.objects.get_or_create(
            organization=organization,
            plan=Plan.objects.get(code=tier),
            defaults={
                "name": f"{organization.name} · {tier.upper() if tier == 'tsam' else tier.title()}",
                "start_date": today - timedelta(days=90),
                "end_date": today + timedelta(days=275),
                "manager": users[manager],
                "deputy": users[deputy],
                "timezone": zone,
                "holiday_country": country,
                "language": language,
            },
        )
        for person in DEMO_PEOPLE:
            if person.organization == slug and person.role == "poc":
                Contact.objects.get_or_create(
                    engagement=engagement, user=users[person.email], removed_at=None
                )
        if created:
            monday = week_start(today)
            for weeks_ago, minutes in enumerate(reversed(DEMO_WEEKLY_MINUTES[slug])):
                day = monday - timedelta(weeks=weeks_ago)
                for offset, share in enumerate((minutes // 2, minutes - minutes // 2)):
                    if day + timedelta(days=offset) <= today:
                        TimeEntry.objects.create(
                            engagement=engagement,
                            manager=engagement.manager,
                            date=day + timedelta(days=offset),
                            minutes=share,
                            activity=TimeEntry.Activity.CALL if offset else TimeEntry.Activity.CASE,
                        )
        overage_evaluate(engagement=engagement)
        schedule_engagement(engagement)
        if created:
            _seed_cases(engagement, users)
    sam = users["sam.lee@portal.example"]
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=7)
    if not Absence.objects.filter(manager=sam).exists():
        Absence.objects.create(
            manager=sam,
            kind=Absence.Kind.VACATION,
            starts_at=start,
            ends_at=start + timedelta(days=5),
            note="Summer vacation",
        )


DEMO_CASES = [
    # kind, severity, subject, hours ago received, answered
    ("inquiry", 2, "How do we rotate the integration certificates?", 30, False),
    ("incident", 1, "Nightly export job fails since the last patch", 6, False),
    ("service_request", 3, "Add two users to the reporting workspace", 120, True),
]


def _seed_cases(engagement: Engagement, users: dict[str, User]) -> None:
    """A few items per engagement, so the queue, the badges and the board have something."""
    from cases.casework.services import case_raise, case_respond

    now = timezone.now()
    for kind, severity, subject, hours_ago, answered in DEMO_CASES:
        case = case_raise(
            acting_user=engagement.manager,
            engagement=engagement,
            kind=kind,
            severity=severity,
            subject=subject,
            received_at=now - timedelta(hours=hours_ago),
        )
        if answered:
            case_respond(
                acting_user=engagement.manager, case=case, body="Done: both users can sign in now."
            )
