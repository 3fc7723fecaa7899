"""`Idempotency-Key` on API POSTs: a retried create answers the first answer, never a second
object; another body under the same key, or the same key in flight, is a 409 (SPEC §8 body)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from cases.casework.models import Case, CaseEvent
from engagements.time.models import TimeEntry
from portal.accounts.models import IdempotencyKey
from portal.tasks import purge_idempotency_keys
from tests.conftest import page_client, signed_in

CASES = "/api/v1/cases/"
TIME = "/api/v1/time-entries/"


def case_body(world, **changes) -> dict:
    return {
        "engagement": world.a.objects["engagement"].pk,
        "kind": "inquiry",
        "severity": 2,
        "subject": "How do I rotate the keys?",
        "description": "Step by step, please.",
        **changes,
    }


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}, body
    assert body["code"] == code, body
    return body


@pytest.mark.django_db
def test_the_same_key_and_body_answer_the_first_case_again(world):
    client = signed_in(world.a.poc)
    first = client.post(CASES, case_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    again = client.post(CASES, case_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert Case.objects.filter(subject="How do I rotate the keys?").count() == 1


@pytest.mark.django_db
def test_without_a_key_each_post_creates(world):
    client = signed_in(world.a.poc)
    for _ in range(2):
        assert client.post(CASES, case_body(world), format="json").status_code == 201
    assert Case.objects.filter(subject="How do I rotate the keys?").count() == 2


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_conflict(world):
    client = signed_in(world.a.poc)
    client.post(CASES, case_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = client.post(
        CASES, case_body(world, subject="Another"), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert_error(response, 409, "idempotency_key_reused")
    assert not Case.objects.filter(subject="Another").exists()
    # The same key on another endpoint is another request too.
    response = client.post(TIME, {"engagement": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code in (403, 409)  # a PoC may not log time; never a replay
    assert "Idempotent-Replayed" not in response


@pytest.mark.django_db
def test_keys_are_per_user(world):
    engagement = world.a.objects["engagement"]
    for user in (world.a.poc, world.manager):
        response = signed_in(user).post(
            CASES, case_body(world), format="json", HTTP_IDEMPOTENCY_KEY="shared"
        )
        assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert (
        Case.objects.filter(engagement=engagement, subject="How do I rotate the keys?").count() == 2
    )


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
def test_an_empty_or_too_long_key_is_refused(world, key):
    client = signed_in(world.a.poc)
    response = client.post(CASES, case_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key)
    body = assert_error(response, 400, "validation_error")
    assert "Idempotency-Key" in body["fields"]
    assert not Case.objects.exists() and not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_a_key_of_255_characters_is_accepted(world):
    client = signed_in(world.a.poc)
    key = "k" * 255
    assert (
        client.post(CASES, case_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key).status_code
        == 201
    )
    assert IdempotencyKey.objects.get().key == key


@pytest.mark.django_db
def test_a_failed_request_does_not_use_up_its_key(world):
    client = signed_in(world.a.poc)
    bad = client.post(
        CASES, case_body(world, kind="nonsense"), format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert_error(bad, 400, "validation_error")
    assert not IdempotencyKey.objects.exists()
    good = client.post(CASES, case_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert good.status_code == 201 and "Idempotent-Replayed" not in good


@pytest.mark.django_db
def test_time_entries_are_idempotent_too(world):
    engagement = world.a.objects["engagement"]
    client = signed_in(world.manager)
    body = {
        "engagement": engagement.pk,
        "date": str(engagement.local_today()),
        "minutes": 90,
        "activity": "call",
        "note": "Weekly call",
    }
    first = client.post(TIME, body, format="json", HTTP_IDEMPOTENCY_KEY="time-1")
    assert first.status_code == 201, first.content
    again = client.post(TIME, body, format="json", HTTP_IDEMPOTENCY_KEY="time-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert TimeEntry.objects.filter(engagement=engagement).count() == 1
    other = client.post(TIME, {**body, "minutes": 30}, format="json", HTTP_IDEMPOTENCY_KEY="time-1")
    assert_error(other, 409, "idempotency_key_reused")
    assert TimeEntry.objects.filter(engagement=engagement).count() == 1


@pytest.mark.django_db
def test_a_post_action_that_creates_is_idempotent(world):
    client = signed_in(world.a.poc)
    case = client.post(CASES, case_body(world), format="json").json()
    url = f"{CASES}{case['id']}/comment/"
    answers = [
        client.post(url, {"body": "Thanks"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201], answers[0].content
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert CaseEvent.objects.filter(case_id=case["id"], kind="comment").count() == 1


@pytest.mark.django_db
def test_a_key_expires_after_a_day(world, settings):
    client = signed_in(world.a.poc)
    client.post(CASES, case_body(world), format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = client.post(CASES, case_body(world), format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Case.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1  # the expired one was replaced


@pytest.mark.django_db
def test_the_periodic_purge_deletes_expired_keys(world):
    client = signed_in(world.a.poc)
    for key in ("a", "b"):
        client.post(CASES, case_body(world, subject=key), format="json", HTTP_IDEMPOTENCY_KEY=key)
    IdempotencyKey.objects.filter(key="a").update(created_at=timezone.now() - timedelta(days=2))
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["b"]


@pytest.mark.django_db
def test_the_schema_documents_the_header_on_every_post(world):
    client = signed_in(world.admin)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    posts = [(path, item["post"]) for path, item in schema["paths"].items() if "post" in item]
    assert any(path == "/api/v1/cases/" for path, _ in posts)
    for path, operation in posts:
        names = [(p["in"], p["name"]) for p in operation.get("parameters", [])]
        assert ("header", "Idempotency-Key") in names, path
        assert "409" in operation["responses"] and "400" in operation["responses"], path
        content = operation["responses"]["409"]["content"]["application/json"]["schema"]
        assert content == {"$ref": "#/components/schemas/Error"}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_create_one_case(world, require_postgres):
    """Two threads (two connections) post the same key at once: exactly one case; the other
    answer is the replay of the first or a 409 in progress, never a second create."""
    body = case_body(world, subject="Concurrent")
    start = threading.Barrier(2)
    answers: list[tuple[int, dict[str, str], bytes]] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            client = Client()
            client.force_login(world.a.poc)
            start.wait(timeout=10)
            response = client.post(
                CASES, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="race"
            )
            answers.append((response.status_code, dict(response.headers), response.content))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(answers) == 2
    assert Case.objects.filter(subject="Concurrent").count() == 1
    statuses = sorted(status for status, _headers, _content in answers)
    assert statuses in ([201, 201], [201, 409]), answers
    created = [a for a in answers if a[0] == 201 and "Idempotent-Replayed" not in a[1]]
    assert len(created) == 1


@pytest.mark.django_db(transaction=True)
def test_a_key_held_by_a_request_in_flight_is_a_conflict_after_the_wait(
    world, settings, require_postgres
):
    """Another transaction holds the key (a first request still running): the second request
    waits IDEMPOTENCY_WAIT_SECONDS, then answers 409 in progress and creates nothing."""
    from django.db import transaction

    settings.IDEMPOTENCY_WAIT_SECONDS = 0.3
    held, release = threading.Event(), threading.Event()

    def first_request() -> None:
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(user=world.a.poc, key="busy", fingerprint="x" * 64)
                held.set()
                release.wait(timeout=10)
                transaction.set_rollback(True)
        finally:
            connection.close()

    thread = threading.Thread(target=first_request)
    thread.start()
    try:
        assert held.wait(timeout=10)
        response = signed_in(world.a.poc).post(
            CASES, case_body(world), format="json", HTTP_IDEMPOTENCY_KEY="busy"
        )
    finally:
        release.set()
        thread.join(timeout=10)
    assert_error(response, 409, "idempotency_key_in_progress")
    assert not Case.objects.exists()


# --- The raise-an-item page: a hidden one-time form token -----------------------------------


def form_token_of(page: str) -> str:
    import re

    match = re.search(r'name="form_token" value="([0-9a-f-]{36})"', page)
    assert match, "the form carries no one-time token"
    return match.group(1)


def case_form(world, token: str | None, **changes) -> dict:
    data = {
        "engagement": world.a.objects["engagement"].pk,
        "kind": "incident",
        "severity": "1",
        "subject": "Login page down",
        "description": "Since 9:00.",
        **changes,
    }
    if token is not None:
        data["form_token"] = token
    return data


@pytest.mark.django_db
def test_a_resent_case_form_shows_the_item_already_raised(world):
    from django.urls import reverse

    client = page_client(world.a.poc)
    token = form_token_of(client.get(reverse("case_create")).content.decode())
    first = client.post(reverse("case_create"), case_form(world, token))
    case = Case.objects.get(subject="Login page down")
    assert first.status_code == 302
    assert first["Location"] == reverse("case_detail", args=[case.pk])
    # A double click / a resent POST of the same form: the same item, no second one.
    again = client.post(reverse("case_create"), case_form(world, token))
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Case.objects.filter(subject="Login page down").count() == 1
    page = client.get(again["Location"]).content.decode()
    assert "already sent" in page
    # A new visit to the form gets a new token and raises a new item.
    fresh = form_token_of(client.get(reverse("case_create")).content.decode())
    assert fresh != token
    client.post(reverse("case_create"), case_form(world, fresh))
    assert Case.objects.filter(subject="Login page down").count() == 2


@pytest.mark.django_db
def test_a_case_form_with_errors_keeps_its_token_unused(world):
    from django.urls import reverse

    client = page_client(world.a.poc)
    token = form_token_of(client.get(reverse("case_create")).content.decode())
    invalid = client.post(reverse("case_create"), case_form(world, token, subject=""))
    assert invalid.status_code == 200
    assert form_token_of(invalid.content.decode()) == token
    fixed = client.post(reverse("case_create"), case_form(world, token))
    assert fixed.status_code == 302
    assert Case.objects.filter(subject="Login page down").count() == 1


@pytest.mark.django_db
def test_the_form_token_belongs_to_its_user(world):
    from django.urls import reverse

    token = "0b9f4c1e-8d6a-4f7e-9a53-2f1c7b8e6d40"
    page_client(world.a.poc).post(reverse("case_create"), case_form(world, token))
    response = page_client(world.manager).post(reverse("case_create"), case_form(world, token))
    assert response.status_code == 302
    assert Case.objects.filter(subject="Login page down").count() == 2


@pytest.mark.django_db
def test_a_case_form_without_a_valid_token_still_raises(world):
    from django.urls import reverse

    client = page_client(world.a.poc)
    for token in (None, "not-a-uuid"):
        assert client.post(reverse("case_create"), case_form(world, token)).status_code == 302
    assert Case.objects.filter(subject="Login page down").count() == 2
