"""Who is replying (cases.presence): a heartbeat shows to the others who see the case, not to
its writer; it expires; an internal note being written shows to the staff only; another
tenant's case answers 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.cases.test_queue import raise_case
from tests.conftest import page_client
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


def beat(user, case, **data):
    response = page_client(user).post(reverse("case_presence", args=[case.pk]), data)
    return response.status_code


def replying(user, case):
    response = page_client(user).get(reverse("case_presence_list", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_writer_shows_to_the_others_and_not_to_themselves(world):
    case = raise_case(world, "Database slow")
    assert beat(world.a.poc, case) == 204
    assert "Poc is replying…" in replying(world.manager, case)
    assert "Poc is replying…" in replying(world.a.member, case)
    assert "replying" not in replying(world.a.poc, case)
    assert beat(world.manager, case) == 204
    assert "Max is replying…" in replying(world.a.poc, case)


def test_presence_expires_and_stops(world, monkeypatch):
    case = raise_case(world, "Database slow")
    beat(world.a.poc, case)
    later = timezone.now() + timedelta(seconds=31)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert "replying" not in replying(world.manager, case)
    monkeypatch.undo()
    beat(world.a.poc, case)
    assert "Poc is replying…" in replying(world.manager, case)
    assert beat(world.a.poc, case, state="stop") == 204
    assert "replying" not in replying(world.manager, case)


def test_an_internal_note_in_the_writing_shows_to_the_staff_only(world):
    case = raise_case(world, "Database slow")
    assert beat(world.manager, case, internal="on") == 204
    for customer in (world.a.poc, world.a.member):
        html = replying(customer, case)
        assert "Max" not in html and "internal" not in html
    assert "Max is writing an internal note…" in replying(world.admin, case)
    # A customer cannot mark a reply internal: theirs shows as a reply to everyone.
    beat(world.a.poc, case, internal="on")
    assert "Poc is replying…" in replying(world.a.member, case)


def test_who_may_beat_and_see(world):
    case = raise_case(world, "Database slow")
    theirs = raise_case(world, "Their case", tenant=world.b)
    assert beat(world.a.member, case) == 403  # members read, they do not reply
    assert beat(world.a.poc, theirs) == 404
    assert beat(world.manager, theirs) == 404
    assert (
        page_client(world.a.poc).get(reverse("case_presence_list", args=[theirs.pk])).status_code
        == 404
    )
    assert page_client(world.a.poc).get(reverse("case_presence", args=[case.pk])).status_code == 405


def test_korean(world):
    case = raise_case(world, "Database slow")
    world.a.poc.name = "민지 박"
    world.a.poc.save()
    beat(world.a.poc, case)
    beat(world.manager, case, internal="on")
    world.admin.language = "ko"
    world.admin.save()
    html = replying(world.admin, case)
    assert "민지 님이 답변을 작성하고 있습니다…" in html
    assert "Max 님이 내부 메모를 작성하고 있습니다…" in html


def test_the_fragment_costs_the_same_whoever_writes(world):
    case = raise_case(world, "Database slow")
    client = page_client(world.manager)
    url = reverse("case_presence_list", args=[case.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(12):
        writer = ManagerFactory(email=f"writer{index}@provider.test", name=f"Writer{index} X")
        world.a.objects["engagement"].__class__.objects.filter(
            pk=world.a.objects["engagement"].pk
        ).update(deputy=writer)
        beat(writer, case)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert "Writer11 is replying…" in html
    assert len(many) == len(few)


def test_the_case_page_polls_and_beats(world):
    case = raise_case(world, "Database slow")
    html = page_client(world.a.poc).get(reverse("case_detail", args=[case.pk])).content.decode()
    assert f'hx-get="/cases/{case.pk}/replying/"' in html
    assert 'hx-trigger="every 5s, live-refresh"' in html
    assert f'data-presence-url="/cases/{case.pk}/presence/"' in html
    # Members have no reply box, but see who is replying.
    html = page_client(world.a.member).get(reverse("case_detail", args=[case.pk])).content.decode()
    assert 'id="case-presence"' in html and "data-presence-url" not in html
