"""Software performance reports (TSAM and Premium): the customer's ranked fix requests — who
creates, ranks and answers them, ranks 1..n that persist and refuse foreign ids, the report
selector, the pages and the API, query budgets."""

import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.casework import services
from cases.fixes import services as functions
from cases.fixes.models import FixRequest
from cases.fixes.selectors import fix_requests_for_report
from portal.audit import AuditEntry
from portal.errors import InvalidInput, NotAllowed, NotEntitled
from portal.notifications import Notification
from tests.conftest import page_client, services_act_in_their_scope, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


FIXES = "/api/v1/fix-requests/"


def request_fix(world, title: str, **extra) -> FixRequest:
    return functions.fix_request_create(
        acting_user=world.a.poc, engagement=world.a.objects["engagement"], title=title, **extra
    )


def ranks(engagement) -> list[tuple[str, int]]:
    return list(
        FixRequest.objects.filter(
            engagement=engagement, vendor_status__in=FixRequest.OPEN_STATUSES
        ).values_list("title", "customer_rank")
    )


def b_fix(world) -> FixRequest:
    """Tenant B's request, made directly: B's standard plan does not offer the function."""
    return FixRequest.objects.create(
        engagement=world.b.objects["engagement"],
        title="B's fix",
        customer_rank=1,
        created_by=world.b.poc,
    )


# --- Services ---------------------------------------------------------------------------------


def test_new_requests_go_last_or_where_placed(world):
    engagement = world.a.objects["engagement"]
    request_fix(world, "one")
    request_fix(world, "two")
    request_fix(world, "first", customer_rank=1)
    assert ranks(engagement) == [("first", 1), ("one", 2), ("two", 3)]
    with pytest.raises(InvalidInput):
        request_fix(world, "too far", customer_rank=5)
    assert Notification.objects.filter(kind="fix_request.created", user=world.manager).count() == 3
    assert AuditEntry.objects.filter(action="fix_request.create").count() == 3


def test_case_must_belong_to_the_engagement(world):
    own = services.case_raise(
        acting_user=world.a.poc,
        engagement=world.a.objects["engagement"],
        kind="incident",
        severity=2,
        subject="slow",
    )
    other = services.case_raise(
        acting_user=world.b.poc,
        engagement=world.b.objects["engagement"],
        kind="incident",
        severity=2,
        subject="other",
    )
    assert request_fix(world, "linked", case=own).case == own
    with pytest.raises(InvalidInput) as error:
        request_fix(world, "foreign", case=other)
    assert "case" in error.value.fields


def test_who_may_create_rank_and_answer(world):
    engagement = world.a.objects["engagement"]
    with pytest.raises(NotAllowed):
        functions.fix_request_create(acting_user=world.a.member, engagement=engagement, title="x")
    staff_made = functions.fix_request_create(
        acting_user=world.manager, engagement=engagement, title="staff"
    )
    with pytest.raises(NotAllowed):
        functions.fix_request_rank(
            acting_user=world.manager, engagement=engagement, ordered_ids=[staff_made.pk]
        )
    with pytest.raises(NotAllowed):
        functions.fix_request_set_vendor_status(
            acting_user=world.a.poc, fix_request=staff_made, vendor_status="planned"
        )


def test_ranking_sets_one_to_n_atomically_and_persists(world):
    engagement = world.a.objects["engagement"]
    one, two, three = (request_fix(world, title) for title in ("one", "two", "three"))
    functions.fix_request_rank(
        acting_user=world.a.poc, engagement=engagement, ordered_ids=[three.pk, one.pk, two.pk]
    )
    assert ranks(engagement) == [("three", 1), ("one", 2), ("two", 3)]
    entry = AuditEntry.objects.get(action="fix_request.rank")
    assert entry.after["ranks"] == {str(three.pk): 1, str(one.pk): 2, str(two.pk): 3}


@pytest.mark.parametrize("bad", ["foreign", "missing", "partial", "duplicate", "closed"])
def test_ranking_refuses_anything_but_the_open_requests(world, bad):
    engagement = world.a.objects["engagement"]
    one, two = request_fix(world, "one"), request_fix(world, "two")
    closed = request_fix(world, "closed")
    functions.fix_request_set_vendor_status(
        acting_user=world.manager, fix_request=closed, vendor_status="released"
    )
    order = {
        "foreign": [two.pk, one.pk, b_fix(world).pk],
        "missing": [two.pk, one.pk, 987654],
        "partial": [two.pk],
        "duplicate": [two.pk, one.pk, one.pk],
        "closed": [two.pk, one.pk, closed.pk],
    }[bad]
    with pytest.raises(InvalidInput) as error:
        functions.fix_request_rank(
            acting_user=world.a.poc, engagement=engagement, ordered_ids=order
        )
    assert list(error.value.fields) == ["order"]
    assert ranks(engagement) == [("one", 1), ("two", 2)]


def test_closing_and_reopening_renumbers_the_rest(world):
    engagement = world.a.objects["engagement"]
    one, _two, _three = (request_fix(world, title) for title in ("one", "two", "three"))
    released = functions.fix_request_set_vendor_status(
        acting_user=world.manager, fix_request=one, vendor_status="released", target_release="7.2"
    )
    assert (released.customer_rank, released.target_release) == (1, "7.2")
    assert ranks(engagement) == [("two", 1), ("three", 2)]
    assert Notification.objects.filter(kind="fix_request.status", user=world.a.poc).exists()
    functions.fix_request_set_vendor_status(
        acting_user=world.manager, fix_request=one, vendor_status="in_progress"
    )
    assert ranks(engagement) == [("two", 1), ("three", 2), ("one", 3)]


def test_standard_plan_is_not_entitled(world):
    engagement = world.b.objects["engagement"]
    with pytest.raises(NotEntitled):
        functions.fix_request_create(acting_user=world.b.poc, engagement=engagement, title="x")
    with pytest.raises(NotEntitled):
        functions.fix_request_rank(acting_user=world.b.poc, engagement=engagement, ordered_ids=[])


def test_report_selector(world):
    engagement = world.a.objects["engagement"]
    one, two = request_fix(world, "one"), request_fix(world, "two")
    functions.fix_request_set_vendor_status(
        acting_user=world.manager, fix_request=one, vendor_status="declined"
    )
    report = fix_requests_for_report(engagement)
    assert report.ranked == [two] and report.closed == [one]
    assert report.by_status["declined"] == 1 and report.by_status["new"] == 1
    b_fix(world)
    assert fix_requests_for_report(world.b.objects["engagement"]).ranked == []


# --- API --------------------------------------------------------------------------------------


def test_api_create_rank_and_vendor_status(world):
    engagement = world.a.objects["engagement"]
    poc = signed_in(world.a.poc)
    ids = []
    for title in ("alpha", "beta", "gamma"):
        response = poc.post(FIXES, {"engagement": engagement.pk, "title": title}, format="json")
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    response = poc.post(
        f"{FIXES}rank/", {"engagement": engagement.pk, "order": ids[::-1]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert [(row["title"], row["customer_rank"]) for row in response.json()] == [
        ("gamma", 1),
        ("beta", 2),
        ("alpha", 3),
    ]
    listed = poc.get(FIXES, {"engagement": engagement.pk}).json()["results"]
    assert [row["title"] for row in listed] == ["gamma", "beta", "alpha"]

    foreign = poc.post(
        f"{FIXES}rank/",
        {"engagement": engagement.pk, "order": [*ids, b_fix(world).pk]},
        format="json",
    )
    missing = poc.post(
        f"{FIXES}rank/", {"engagement": engagement.pk, "order": [*ids, 987654]}, format="json"
    )
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()

    response = poc.patch(f"{FIXES}{ids[0]}/", {"vendor_status": "planned"}, format="json")
    assert response.status_code == 403
    response = signed_in(world.manager).patch(
        f"{FIXES}{ids[0]}/", {"vendor_status": "planned", "target_release": "8.0"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["vendor_status"] == "planned"
    assert response.json()["target_release"] == "8.0"


def test_api_refuses_standard_engagements(world):
    engagement = world.b.objects["engagement"]
    client = signed_in(world.b.poc)
    response = client.post(FIXES, {"engagement": engagement.pk, "title": "x"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"
    assert response.json()["fields"] == {"function": ["software_performance_reports"]}
    response = client.get(FIXES, {"engagement": engagement.pk})
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"
    response = client.post(f"{FIXES}rank/", {"engagement": engagement.pk, "order": []})
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"


def test_api_case_of_another_tenant_is_refused_as_missing(world):
    other = services.case_raise(
        acting_user=world.b.poc,
        engagement=world.b.objects["engagement"],
        kind="incident",
        severity=2,
        subject="other",
    )
    client = signed_in(world.a.poc)
    engagement = world.a.objects["engagement"].pk
    foreign = client.post(FIXES, {"engagement": engagement, "title": "x", "case": other.pk})
    missing = client.post(FIXES, {"engagement": engagement, "title": "x", "case": 987654})
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["fields"]["case"] == [
        m.replace("987654", str(other.pk)) for m in missing.json()["fields"]["case"]
    ]


# --- Pages ------------------------------------------------------------------------------------


def test_poc_ranks_with_number_inputs(world):
    engagement = world.a.objects["engagement"]
    one, two, three = (request_fix(world, title) for title in ("one", "two", "three"))
    client = page_client(world.a.poc)
    url = f"/engagements/{engagement.pk}/fixes/"
    page = client.get(url).content.decode()
    assert f'name="rank-{one.pk}"' in page
    response = client.post(
        f"{url}rank/", {f"rank-{one.pk}": "3", f"rank-{two.pk}": "1", f"rank-{three.pk}": "2"}
    )
    assert response.status_code == 302
    assert ranks(engagement) == [("two", 1), ("three", 2), ("one", 3)]
    page = client.get(url).content.decode()
    assert page.index("two") < page.index("three") < page.index(">one<")
    # A foreign id is refused like a missing one, and nothing changes.
    response = client.post(
        f"{url}rank/",
        {f"rank-{one.pk}": "1", f"rank-{two.pk}": "2", f"rank-{b_fix(world).pk}": "3"},
        follow=True,
    )
    assert "exactly once" in response.content.decode()
    assert ranks(engagement) == [("two", 1), ("three", 2), ("one", 3)]


def test_pages_create_and_vendor_status(world):
    engagement = world.a.objects["engagement"]
    url = f"/engagements/{engagement.pk}/fixes/"
    poc = page_client(world.a.poc)
    response = poc.post(f"{url}new/", {"title": "Export times out", "description": "Over 1 GB"})
    assert response.status_code == 302
    fix = FixRequest.objects.get(title="Export times out")
    assert poc.get(f"{url}{fix.pk}/vendor/").status_code == 403
    member = page_client(world.a.member)
    assert member.get(f"{url}new/").status_code == 403
    assert 'name="rank-' not in member.get(url).content.decode()
    manager = page_client(world.manager)
    response = manager.post(
        f"{url}{fix.pk}/vendor/", {"vendor_status": "planned", "target_release": "9.1"}
    )
    assert response.status_code == 302
    fix.refresh_from_db()
    assert (fix.vendor_status, fix.target_release) == ("planned", "9.1")
    detail = member.get(f"/engagements/{engagement.pk}/").content.decode()
    assert url in detail


def test_pages_hide_and_refuse_on_a_standard_plan(world):
    engagement = world.b.objects["engagement"]
    client = page_client(world.b.poc)
    url = f"/engagements/{engagement.pk}/fixes/"
    assert url not in client.get(f"/engagements/{engagement.pk}/").content.decode()
    response = client.get(url)
    assert response.status_code == 403
    assert "Software performance reports" in response.content.decode()
    assert client.get(f"{url}new/").status_code == 403
    assert client.post(f"{url}rank/", {}).status_code == 403


# --- Query budgets ----------------------------------------------------------------------------


def _add(world, count: int) -> None:
    start = FixRequest.objects.count()
    for n in range(start, start + count):
        request_fix(world, f"fix {n}")


@pytest.mark.parametrize(
    ("surface", "role"), [("page", "poc"), ("page", "manager"), ("api", "poc")]
)
def test_list_queries_do_not_grow_with_rows(world, surface, role):
    engagement = world.a.objects["engagement"]
    user = world.user(role)
    if surface == "page":
        client, url, params = page_client(user), f"/engagements/{engagement.pk}/fixes/", {}
    else:
        client, url, params = signed_in(user), FIXES, {"engagement": engagement.pk}
    _add(world, 3)
    client.get(url, params)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, params).status_code == 200
    _add(world, 27)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, params)
    assert "fix 29" in response.content.decode()
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)
