"""The demo data set that `make run` loads: one organization per tier, staff and customers."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction

from portal.accounts.models import User
from portal.tenancy.models import Membership, Organization
from portal.tenancy.scoping import system_scope

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
    # slug, name, the tier its engagement takes
    ("hanbit", "Hanbit Heavy Industries", "tsam"),
    ("northwind", "Northwind Logistics", "standard"),
    ("globex", "Globex Pharmaceuticals", "premium"),
]

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
    with system_scope("seed the demo data set"):
        organizations = {}
        for slug, name, _tier in DEMO_ORGANIZATIONS:
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
    return DEMO_PEOPLE
