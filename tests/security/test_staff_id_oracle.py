"""No staff-id oracle in absences (audit, issue 11 §2.3).

`POST /api/v1/absences/ {"manager": <other manager's id>}` answered 403 where a missing id
answered 400, and `POST /absences/<id>/delete/` answered 403 for another manager's absence
where a missing one answered 404. Both now answer exactly alike, byte for byte.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from engagements.absences.models import Absence
from portal.accounts.models import User
from tests.conftest import page_client, signed_in
from tests.isolation.harness import _comparable

pytestmark = pytest.mark.django_db


def payload(manager: int) -> dict:
    return {
        "manager": manager,
        "kind": "vacation",
        "starts_at": "2027-07-05T00:00:00+02:00",
        "ends_at": "2027-07-10T00:00:00+02:00",
    }


def missing_user_id() -> int:
    return (User.objects.aggregate(top=Max("pk"))["top"] or 0) + 1000


def test_recording_another_managers_absence_answers_like_a_missing_id(world):
    client = signed_in(world.manager)
    other = client.post("/api/v1/absences/", payload(world.other_manager.pk), format="json")
    missing = client.post("/api/v1/absences/", payload(missing_user_id()), format="json")
    assert (other.status_code, other.content) == (missing.status_code, missing.content)
    assert other.status_code == 400
    assert other.json() == {
        "code": "validation_error",
        "detail": other.json()["detail"],
        "fields": {"manager": ["You can only record your own absences."]},
    }
    # A customer's id and an admin's: the same answer again.
    for pk in (world.a.poc.pk, world.admin.pk):
        response = client.post("/api/v1/absences/", payload(pk), format="json")
        assert (response.status_code, response.content) == (missing.status_code, missing.content)
    assert not Absence.objects.exists()
    # Their own id, or none, records it.
    assert (
        client.post("/api/v1/absences/", payload(world.manager.pk), format="json").status_code
        == 201
    )


def test_admins_still_record_anyones_absence_and_learn_nothing_from_missing_ids(world):
    client = signed_in(world.admin)
    response = client.post("/api/v1/absences/", payload(world.other_manager.pk), format="json")
    assert response.status_code == 201, response.content
    missing = client.post("/api/v1/absences/", payload(missing_user_id()), format="json")
    customer = client.post("/api/v1/absences/", payload(world.a.poc.pk), format="json")
    assert missing.status_code == 400 and missing.content == customer.content
    assert str(missing_user_id()) not in missing.content.decode()


def test_deleting_another_managers_absence_answers_like_a_missing_one(world):
    start = timezone.now() + timedelta(days=10)
    theirs = Absence.objects.create(
        manager=world.other_manager, kind="vacation", starts_at=start, ends_at=start + timedelta(1)
    )
    missing_pk = theirs.pk + 1000
    client = page_client(world.manager)
    other = client.post(reverse("absence_delete", args=[theirs.pk]))
    missing = client.post(reverse("absence_delete", args=[missing_pk]))
    assert other.status_code == missing.status_code == 404
    # Byte for byte but for the page's per-request CSRF token.
    assert _comparable(other) == _comparable(missing)
    assert Absence.objects.filter(pk=theirs.pk).exists()
    # Its owner and an admin still remove absences.
    assert (
        page_client(world.admin).post(reverse("absence_delete", args=[theirs.pk])).status_code
        == 302
    )
    mine = Absence.objects.create(
        manager=world.manager, kind="sick", starts_at=start, ends_at=start + timedelta(1)
    )
    assert client.post(reverse("absence_delete", args=[mine.pk])).status_code == 302
    assert not Absence.objects.exists()
