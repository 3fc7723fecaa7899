"""The demo data set that `make run` loads."""

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command

from engagements.models import Contact, Engagement, OverageFlag, TimeEntry
from portal.accounts.models import User
from portal.demo import DEMO_PASSWORD, DEMO_PEOPLE
from portal.tenancy.models import Membership, Organization

pytestmark = pytest.mark.django_db


def counts():
    return [
        model.objects.count()
        for model in (User, Organization, Membership, Engagement, Contact, TimeEntry, OverageFlag)
    ]


def test_seed_demo_is_idempotent_and_its_logins_work(capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    output = capsys.readouterr().out
    for person in DEMO_PEOPLE:
        assert person.email in output
        assert User.objects.get(email=person.email).check_password(DEMO_PASSWORD)
    admin = User.objects.get(email="admin@portal.example")
    assert admin.is_provider_admin
    assert Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists()
    assert sorted(Engagement.objects.values_list("plan__code", flat=True)) == [
        "premium",
        "standard",
        "tsam",
    ]
    assert OverageFlag.objects.filter(cleared_at__isnull=True).count() == 1
    from cases.models import Case
    from reviews.models import Occurrence

    assert Case.objects.count() == 9  # three per engagement, not repeated by the second run
    assert Occurrence.objects.filter(deliverable="weekly_call").exists()
