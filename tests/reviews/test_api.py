"""The reviews API: occurrences per role, completing, requesting and cancelling them, the
service review report, action items, the error format, and query budgets."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reviews.reports import figures
from reviews.reports.models import ReportSnapshot
from reviews.scheduling.models import ActionItem, Occurrence
from tests.conftest import signed_in
from tests.reviews.sessions import business_slot

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MISSING = 987_654
FIELDS = {
    "id",
    "engagement",
    "deliverable",
    "scheduled_at",
    "method",
    "status",
    "period",
    "duration_minutes",
    "ends_at",
    "minutes",
    "attendees",
    "other_attendees",
    "completed_at",
    "requested_by",
    "host",
    "action_items",
    "report_url",
    "created_at",
    "updated_at",
}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}, body
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def make_occurrence(engagement, start: datetime, *, deliverable="service_review", **fields):
    return Occurrence.objects.create(
        engagement=engagement,
        deliverable=deliverable,
        period=fields.pop("period", f"monthly:{start.date().isoformat()}"),
        scheduled_start=start,
        method=fields.pop("method", "video"),
        **fields,
    )


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=BERLIN)


@pytest.fixture
def reviews(world):
    """A service review on each tenant's engagement and a weekly call on A's."""
    return {
        "a": make_occurrence(world.a.objects["engagement"], at(2)),
        "b": make_occurrence(world.b.objects["engagement"], at(3)),
        "call": make_occurrence(
            world.a.objects["engagement"], at(4), deliverable="weekly_call", period="weekly:x"
        ),
    }


def ids(response) -> list[int]:
    return [row["id"] for row in results(response)]


# --- Listing -----------------------------------------------------------------------------------


def test_list_is_scoped_per_role(world, reviews):
    own = [reviews["a"].pk, reviews["call"].pk]
    for user in (world.a.poc, world.a.member, world.manager):
        assert ids(signed_in(user).get("/api/v1/reviews/")) == own
    assert ids(signed_in(world.other_manager).get("/api/v1/reviews/")) == [reviews["b"].pk]
    assert ids(signed_in(world.admin).get("/api/v1/reviews/")) == [
        reviews["a"].pk,
        reviews["b"].pk,
        reviews["call"].pk,
    ]
    client = signed_in(world.a.poc)
    assert_error(client.get(f"/api/v1/reviews/{reviews['b'].pk}/"), 404, "not_found")
    assert_error(client.get(f"/api/v1/reviews/{MISSING}/"), 404, "not_found")


def test_row_fields(world, reviews):
    item = ActionItem.objects.create(occurrence=reviews["a"], description="Share the figures")
    response = signed_in(world.a.poc).get(f"/api/v1/reviews/{reviews['a'].pk}/")
    assert response.status_code == 200, response.content
    row = response.json()
    assert set(row) == FIELDS
    assert row["engagement"] == world.a.objects["engagement"].pk
    assert row["deliverable"] == "service_review" and row["status"] == "scheduled"
    assert row["scheduled_at"] == "2026-06-02T08:00:00Z"
    assert row["ends_at"] == "2026-06-02T09:00:00Z"
    assert row["report_url"] == f"http://testserver/api/v1/reviews/{reviews['a'].pk}/report/"
    assert [entry["id"] for entry in row["action_items"]] == [item.pk]
    call = signed_in(world.a.poc).get(f"/api/v1/reviews/{reviews['call'].pk}/").json()
    assert call["report_url"] is None


def test_filters_and_order(world, reviews):
    client = signed_in(world.admin)
    engagement = world.a.objects["engagement"]
    assert ids(client.get("/api/v1/reviews/", {"engagement": engagement.pk})) == [
        reviews["a"].pk,
        reviews["call"].pk,
    ]
    assert ids(client.get("/api/v1/reviews/", {"deliverable": "weekly_call"})) == [
        reviews["call"].pk
    ]
    assert ids(
        client.get(
            "/api/v1/reviews/",
            {"scheduled_after": "2026-06-03T00:00:00+02:00", "scheduled_before": "2026-06-04"},
        )
    ) == [reviews["b"].pk]
    Occurrence.objects.filter(pk=reviews["b"].pk).update(status="missed", method="in_person")
    assert ids(client.get("/api/v1/reviews/", {"status": "missed"})) == [reviews["b"].pk]
    assert ids(client.get("/api/v1/reviews/", {"method": "in_person"})) == [reviews["b"].pk]
    # Another tenant's engagement is refused as filter value, exactly like a missing one.
    poc = signed_in(world.a.poc)
    foreign = poc.get("/api/v1/reviews/", {"engagement": world.b.objects["engagement"].pk})
    missing = poc.get("/api/v1/reviews/", {"engagement": MISSING})
    assert_error(foreign, 400, "validation_error")
    assert foreign.json() == missing.json()


def test_cursor_pages_follow_the_start(world):
    engagement = world.a.objects["engagement"]
    made = [make_occurrence(engagement, at(day)) for day in (20, 5, 12, 1)]
    client = signed_in(world.manager)
    first = client.get("/api/v1/reviews/", {"page_size": 2})
    second = client.get(first.json()["next"])
    by_start = [o.pk for o in sorted(made, key=lambda o: o.scheduled_start)]
    assert ids(first) + ids(second) == by_start


# --- Completing --------------------------------------------------------------------------------


def complete_url(occurrence) -> str:
    return f"/api/v1/reviews/{occurrence.pk}/complete/"


def test_complete_refuses_a_method_the_plan_does_not_allow(world, reviews):
    client = signed_in(world.manager)
    for method in ("email", "carrier_pigeon"):
        body = assert_error(
            client.post(
                complete_url(reviews["a"]),
                {"method": method, "minutes": "Discussed."},
                format="json",
            ),
            400,
            "validation_error",
        )
        assert "method" in body["fields"]
    reviews["a"].refresh_from_db()
    assert reviews["a"].status == "scheduled"


def test_manager_completes_with_attendees_and_action_items(world, reviews):
    call = reviews["call"]
    response = signed_in(world.manager).post(
        complete_url(call),
        {
            "method": "phone",
            "minutes": "Reviewed the open incidents.",
            "attendees": [world.a.poc.pk, world.manager.pk],
            "other_attendees": "Their CTO",
            "action_items": [
                {
                    "description": "Patch the gateway",
                    "owner": world.a.poc.pk,
                    "due_date": "2026-06-30",
                },
                {"description": "Send the runbook", "owner_name": "Their CTO"},
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    row = response.json()
    assert row["status"] == "completed" and row["method"] == "phone"
    assert sorted(row["attendees"]) == sorted([world.a.poc.pk, world.manager.pk])
    assert row["completed_at"] is not None
    items = ActionItem.objects.filter(occurrence=call).order_by("id")
    assert [(i.description, i.owner_id, i.owner_name) for i in items] == [
        ("Patch the gateway", world.a.poc.pk, ""),
        ("Send the runbook", None, "Their CTO"),
    ]
    assert [item["description"] for item in row["action_items"]] == [
        "Patch the gateway",
        "Send the runbook",
    ]
    # Completing twice is a conflict.
    assert_error(
        signed_in(world.manager).post(
            complete_url(call), {"method": "phone", "minutes": "Again."}, format="json"
        ),
        409,
        "conflict",
    )


def test_customers_cannot_complete(world, reviews):
    for user in (world.a.poc, world.a.member):
        assert_error(
            signed_in(user).post(
                complete_url(reviews["a"]), {"method": "video", "minutes": "Done."}, format="json"
            ),
            403,
            "permission_denied",
        )
    reviews["a"].refresh_from_db()
    assert reviews["a"].status == "scheduled"


def test_people_of_another_tenant_cannot_be_named(world, reviews):
    client = signed_in(world.manager)
    body = assert_error(
        client.post(
            complete_url(reviews["call"]),
            {"method": "video", "minutes": "x", "attendees": [world.b.poc.pk]},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "attendees" in body["fields"]
    body = assert_error(
        client.post(
            complete_url(reviews["call"]),
            {
                "method": "video",
                "minutes": "x",
                "action_items": [{"description": "Do it", "owner": world.b.poc.pk}],
            },
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "action_items" in body["fields"]
    body = assert_error(
        client.post(
            complete_url(reviews["call"]),
            {"method": "video", "minutes": "x", "extra": 1},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "extra" in body["fields"]


def test_a_session_is_not_completed_before_it_starts_but_can_be_cancelled(world):
    """Friday's call cannot be recorded on Wednesday: 409 session_not_started, nothing
    written; cancelling it stays possible."""
    tomorrow = timezone.now() + timedelta(days=1)
    call = make_occurrence(
        world.a.objects["engagement"], tomorrow, deliverable="weekly_call", period="weekly:t"
    )
    client = signed_in(world.manager)
    body = assert_error(
        client.post(
            complete_url(call),
            {
                "method": "video",
                "minutes": "Discussed.",
                "action_items": [{"description": "Send the slides"}],
            },
            format="json",
        ),
        409,
        "session_not_started",
    )
    assert body["fields"] == {}
    local = tomorrow.astimezone(BERLIN)
    assert f"{local:%Y-%m-%d %H:%M} (Europe/Berlin)" in body["detail"]
    call.refresh_from_db()
    assert (call.status, call.minutes, call.completed_at) == ("scheduled", "", None)
    assert not ActionItem.objects.filter(occurrence=call).exists()

    response = client.post(f"/api/v1/reviews/{call.pk}/cancel/", {"reason": "Moved"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_a_review_is_not_completed_before_it_starts_and_nothing_is_frozen(world):
    review = make_occurrence(
        world.a.objects["engagement"], timezone.now() + timedelta(minutes=5), period="monthly:t"
    )
    assert_error(
        signed_in(world.manager).post(
            complete_url(review), {"method": "video", "minutes": "Early."}, format="json"
        ),
        409,
        "session_not_started",
    )
    assert not ReportSnapshot.objects.filter(occurrence=review).exists()


def test_a_session_completes_once_it_has_started(world):
    started = make_occurrence(
        world.a.objects["engagement"], timezone.now() - timedelta(minutes=1), period="monthly:s"
    )
    response = signed_in(world.manager).post(
        complete_url(started), {"method": "video", "minutes": "On time."}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"


def test_the_completion_time_is_not_before_the_start(world, reviews):
    body = assert_error(
        signed_in(world.manager).post(
            complete_url(reviews["a"]),
            {
                "method": "video",
                "minutes": "Discussed.",
                "completed_at": (reviews["a"].scheduled_start - timedelta(hours=1)).isoformat(),
            },
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "completed_at" in body["fields"]
    reviews["a"].refresh_from_db()
    assert reviews["a"].status == "scheduled"


def test_another_tenants_occurrence_is_404_for_commands(world, reviews):
    client = signed_in(world.manager)
    for command in ("complete", "cancel"):
        foreign = client.post(f"/api/v1/reviews/{reviews['b'].pk}/{command}/", {}, format="json")
        missing = client.post(f"/api/v1/reviews/{MISSING}/{command}/", {}, format="json")
        assert_error(foreign, 404, "not_found")
        assert foreign.json() == missing.json()


# --- Requesting "as needed" sessions -----------------------------------------------------------


def request_payload(engagement, **changes):
    return {
        "engagement": engagement.pk,
        "deliverable": "upgrade_planning",
        "method": "in_person",
        "preferred_start": business_slot(engagement, days_ahead=7).isoformat(),
        "note": "Plan the 12.0 upgrade",
        **changes,
    }


def test_poc_requests_an_as_needed_session(world):
    engagement = world.a.objects["engagement"]
    response = signed_in(world.a.poc).post(
        "/api/v1/reviews/", request_payload(engagement), format="json"
    )
    assert response.status_code == 201, response.content
    row = response.json()
    assert row["deliverable"] == "upgrade_planning" and row["method"] == "in_person"
    assert row["status"] == "scheduled" and row["requested_by"] == world.a.poc.pk
    assert row["period"].startswith("as_needed:")
    occurrence = Occurrence.objects.get(pk=row["id"])
    assert occurrence.request_note == "Plan the 12.0 upgrade"


def test_request_by_a_method_the_plan_lacks_is_400(world):
    body = assert_error(
        signed_in(world.a.poc).post(
            "/api/v1/reviews/",
            request_payload(world.a.objects["engagement"], method="email"),
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "method" in body["fields"]


def test_request_of_a_function_outside_the_plan_is_not_entitled(world):
    body = assert_error(
        signed_in(world.b.poc).post(
            "/api/v1/reviews/",
            request_payload(
                world.b.objects["engagement"], deliverable="risk_mitigation", method="video"
            ),
            format="json",
        ),
        403,
        "not_entitled",
    )
    assert body["fields"] == {"function": ["risk_mitigation"]}


def test_request_refusals(world):
    engagement = world.a.objects["engagement"]
    # Members are not named contacts.
    assert_error(
        signed_in(world.a.member).post(
            "/api/v1/reviews/", request_payload(engagement), format="json"
        ),
        403,
        "permission_denied",
    )
    poc = signed_in(world.a.poc)
    foreign = poc.post(
        "/api/v1/reviews/", request_payload(world.b.objects["engagement"]), format="json"
    )
    missing = poc.post(
        "/api/v1/reviews/", {**request_payload(engagement), "engagement": MISSING}, format="json"
    )
    assert_error(foreign, 400, "validation_error")
    foreign_id = world.b.objects["engagement"].pk
    assert foreign.json()["fields"]["engagement"] == [
        message.replace(str(MISSING), str(foreign_id))
        for message in missing.json()["fields"]["engagement"]
    ]
    body = assert_error(
        poc.post(
            "/api/v1/reviews/", request_payload(engagement, deliverable="nope"), format="json"
        ),
        400,
        "validation_error",
    )
    assert "deliverable" in body["fields"]
    assert not Occurrence.objects.exists()


def test_requester_cancels_and_cancelling_twice_conflicts(world):
    poc = signed_in(world.a.poc)
    row = poc.post(
        "/api/v1/reviews/", request_payload(world.a.objects["engagement"]), format="json"
    ).json()
    url = f"/api/v1/reviews/{row['id']}/cancel/"
    assert_error(
        signed_in(world.a.member).post(url, {"reason": "x"}, format="json"),
        403,
        "permission_denied",
    )
    response = poc.post(url, {"reason": "No longer needed"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert_error(poc.post(url, {}, format="json"), 409, "conflict")


# --- The report --------------------------------------------------------------------------------


def test_report_is_live_until_frozen(world, reviews, monkeypatch):
    seen = []

    def fake_build(occurrence, *, as_of):
        seen.append((occurrence.pk, as_of))
        return {"cases": 3}

    monkeypatch.setattr(figures, "build_report", fake_build)
    url = f"/api/v1/reviews/{reviews['a'].pk}/report/"
    client = signed_in(world.a.member)
    response = client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["frozen"] is False and body["data"] == {"cases": 3}
    assert body["occurrence"] == reviews["a"].pk
    assert seen and seen[0][0] == reviews["a"].pk
    assert abs(seen[0][1] - timezone.now()) < timedelta(minutes=1)

    ReportSnapshot.objects.create(occurrence=reviews["a"], data={"cases": 2, "frozen": "yes"})
    body = client.get(url).json()
    assert body["frozen"] is True and body["data"] == {"cases": 2, "frozen": "yes"}
    assert len(seen) == 1


def test_completing_a_review_freezes_its_report(world, reviews):
    response = signed_in(world.manager).post(
        complete_url(reviews["a"]), {"method": "in_person", "minutes": "Went well."}, format="json"
    )
    assert response.status_code == 200, response.content
    body = signed_in(world.a.poc).get(f"/api/v1/reviews/{reviews['a'].pk}/report/").json()
    assert body["frozen"] is True
    frozen = ReportSnapshot.objects.get(occurrence=reviews["a"]).data
    # the customer reads it without the provider's hours budget and overage flags
    assert body["data"] == figures.for_audience(frozen, provider=False)
    assert "cap_hours" in frozen["hours"] and "cap_hours" not in body["data"]["hours"]
    manager = signed_in(world.manager).get(f"/api/v1/reviews/{reviews['a'].pk}/report/").json()
    assert manager["data"] == frozen


def test_report_only_for_service_reviews(world, reviews):
    client = signed_in(world.a.poc)
    assert_error(client.get(f"/api/v1/reviews/{reviews['call'].pk}/report/"), 404, "not_found")
    assert_error(client.get(f"/api/v1/reviews/{reviews['b'].pk}/report/"), 404, "not_found")


# --- Action items ------------------------------------------------------------------------------


@pytest.fixture
def items(world, reviews):
    return {
        "a": ActionItem.objects.create(
            occurrence=reviews["a"], description="Upgrade the agents", owner=world.a.poc
        ),
        "a2": ActionItem.objects.create(occurrence=reviews["call"], description="Share logs"),
        "b": ActionItem.objects.create(occurrence=reviews["b"], description="B's secret task"),
    }


def test_action_items_list_scoped_and_filtered(world, items, reviews):
    client = signed_in(world.a.poc)
    assert ids(client.get("/api/v1/action-items/")) == [items["a"].pk, items["a2"].pk]
    assert ids(client.get("/api/v1/action-items/", {"occurrence": reviews["call"].pk})) == [
        items["a2"].pk
    ]
    assert ids(client.get("/api/v1/action-items/", {"owner": world.a.poc.pk})) == [items["a"].pk]
    ActionItem.objects.filter(pk=items["a2"].pk).update(done=True)
    assert ids(client.get("/api/v1/action-items/", {"done": "true"})) == [items["a2"].pk]
    assert ids(client.get("/api/v1/action-items/", {"done": "false"})) == [items["a"].pk]
    assert_error(client.get(f"/api/v1/action-items/{items['b'].pk}/"), 404, "not_found")


def test_patch_done(world, items):
    url = f"/api/v1/action-items/{items['a'].pk}/"
    response = signed_in(world.a.poc).patch(url, {"done": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["done"] is True and response.json()["done_at"]
    response = signed_in(world.manager).patch(url, {"done": False}, format="json")
    assert response.status_code == 200 and response.json()["done"] is False
    assert_error(
        signed_in(world.a.member).patch(url, {"done": True}, format="json"),
        403,
        "permission_denied",
    )
    body = assert_error(
        signed_in(world.a.poc).patch(url, {"description": "Mine now"}, format="json"),
        400,
        "validation_error",
    )
    assert "description" in body["fields"]
    assert_error(
        signed_in(world.a.poc).put(url, {"done": True}, format="json"), 405, "method_not_allowed"
    )
    foreign = signed_in(world.a.poc).patch(
        f"/api/v1/action-items/{items['b'].pk}/", {"done": True}, format="json"
    )
    assert_error(foreign, 404, "not_found")
    items["b"].refresh_from_db()
    assert items["b"].done is False


# --- Query budgets -----------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(context)


def _populate(world, count: int) -> None:
    engagement = world.a.objects["engagement"]
    for n in range(count):
        occurrence = make_occurrence(
            engagement, at(1) + timedelta(days=n), period=f"weekly:{n}-{count}"
        )
        occurrence.attendees.set([world.a.poc, world.manager])
        ActionItem.objects.bulk_create(
            ActionItem(occurrence=occurrence, description=f"Item {k}", owner=world.a.poc)
            for k in range(2)
        )


@pytest.mark.parametrize("url", ["/api/v1/reviews/", "/api/v1/action-items/"])
def test_list_query_counts_do_not_grow(world, url):
    for user in (world.a.poc, world.manager, world.admin):
        client = signed_in(user)
        client.get(url)  # the first request of a session does a few things once
        Occurrence.objects.all().delete()
        _populate(world, 3)
        few = _queries(client, url)
        Occurrence.objects.all().delete()
        _populate(world, 30)
        many = _queries(client, url)
        assert few == many, f"{user.email}: {few} queries for 3 rows, {many} for 30"
