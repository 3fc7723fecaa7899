"""The demo data set that `make run` loads."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command

from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from engagements.time.models import OverageFlag, TimeEntry
from portal.accounts.models import User
from portal.demo.seed import DEMO_PASSWORD, DEMO_PEOPLE
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
    from cases.casework.models import Case
    from reviews.scheduling.models import Occurrence

    assert Case.objects.count() == 9  # three per engagement, not repeated by the second run
    assert Occurrence.objects.filter(deliverable="weekly_call").exists()


def test_the_printed_totp_hint_works_as_printed(capsys):
    """`make run` prints how to get the admin's TOTP code; that command, run as printed from the
    repository (with the environment of a fresh shell: no DEBUG), prints a code the TOTP secret
    accepts now."""
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    from portal.demo.seed import DEMO_ADMIN_TOTP_SECRET

    call_command("seed_demo")
    hint = re.search(r"run `([^`]+)`", capsys.readouterr().out)
    assert hint, "seed_demo prints no command for the TOTP code"
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}  # not make test's
    }
    # The command exactly as a newcomer would paste it.
    result = subprocess.run(
        hint.group(1),
        shell=True,
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    code = result.stdout.strip().splitlines()[-1]
    valid = {
        format_hotp_value(hotp_value(DEMO_ADMIN_TOTP_SECRET, counter))
        for counter in yield_hotp_counters_from_time()
    }
    assert code in valid
