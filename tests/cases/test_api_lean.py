"""The lean read path of the cases API (issue 17): the list and one item are built from plain rows
(`selectors.case_rows`, `serializers.case_representations`) and must answer the same bytes as
`CaseSerializer`, the reference, for every kind of item and every viewer."""

from datetime import timedelta
from itertools import cycle

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from cases.casework.api import CaseViewSet
from cases.casework.models import Case, RootCauseAnalysis
from cases.casework.selectors import case_rows
from cases.casework.serializers import CaseSerializer, case_representations
from cases.satisfaction.models import CaseRating
from engagements.absences.models import Absence
from portal.accounts.models import User
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db
CASES = "/api/v1/cases/"


def arrange(world) -> list[Case]:
    """Every status, severity and kind; held by nobody, the manager (away: the deputy covers)
    or the deputy; escalated or not; answered on time, late or not at all (on track, at risk,
    breached: thresholds hours away from now, so two requests judge them alike); with an RCA
    and a rating; texts with quotes, line breaks and non-ASCII letters; times with and without
    microseconds."""
    engagement = world.a.objects["engagement"]
    deputy = engagement.deputy
    now = timezone.now().replace(microsecond=0)
    holders = cycle([None, world.manager, deputy])
    escalated = cycle([None, now - timedelta(hours=2, microseconds=123_456)])
    clocks = cycle(["on_track", "at_risk", "breached", "on_time", "late"])
    cases = []
    n = 0
    for status in Case.Status.values:
        for severity in Case.Severity.values:
            kind = Case.Kind.values[n % len(Case.Kind.values)]
            clock = next(clocks)
            received = now - timedelta(days=3, minutes=n, microseconds=n * 1001)
            due = (
                now + timedelta(hours=5)
                if clock in ("on_track", "at_risk")
                else now - timedelta(hours=5)
            )
            reminder = now + timedelta(hours=3) if clock == "on_track" else now - timedelta(hours=7)
            answered = {"on_time": due - timedelta(hours=1), "late": due + timedelta(hours=1)}
            closed_like = status in (Case.Status.RESOLVED, Case.Status.CLOSED)
            cases.append(
                Case(
                    engagement=engagement,
                    kind=kind,
                    severity=severity,
                    priority=None if n % 3 else 1 + n % 5,
                    subject=f'Item {n}: "quoted" — Überlauf 서버',
                    description="" if n % 2 else "Line one\nline two\t\\ end",
                    status=status,
                    received_at=received,
                    response_due_at=due,
                    reminder_due_at=reminder,
                    first_response_at=answered.get(clock),
                    first_response_by=world.manager if clock in answered else None,
                    resolved_at=now - timedelta(hours=1) if closed_like else None,
                    closed_at=now - timedelta(minutes=30) if status == Case.Status.CLOSED else None,
                    assignee=next(holders),
                    raised_by=world.a.poc if n % 2 else world.a.member,
                    escalated_at=next(escalated),
                    escalated_by=world.manager if n % 2 else None,
                )
            )
            n += 1
    cases = Case.objects.bulk_create(cases)
    for index, case in enumerate(cases[::4]):
        RootCauseAnalysis.objects.create(
            case=case,
            findings="A full disk stopped the database.",
            corrective_actions="Alerts at 80 %.",
            delivery_method="video",
            delivered_at=now - timedelta(hours=1, microseconds=5),
            author=world.manager if index % 2 else None,
        )
    for case in cases[1::5]:
        CaseRating.objects.create(
            case=case,
            score=1 + case.pk % 5,
            comment="" if case.pk % 2 else "Schnell, 감사합니다",
            rated_by=world.a.poc,
        )
    # The manager is away: the deputy covers the manager's items.
    Absence.objects.create(
        manager=world.manager,
        kind="vacation",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3, microseconds=250),
    )
    # Tenant B's items never show to A's viewers, in either path.
    Case.objects.create(
        engagement=world.b.objects["engagement"],
        kind="incident",
        subject="B's item",
        response_due_at=now + timedelta(days=1),
        reminder_due_at=now + timedelta(hours=18),
        raised_by=world.b.poc,
    )
    return cases


@pytest.fixture
def reference(monkeypatch):
    """Switches the view to CaseSerializer (the reference) while the context is open."""

    class Switch:
        def __enter__(self):
            monkeypatch.setattr(CaseViewSet, "_lean", lambda self: False)

        def __exit__(self, *exc):
            monkeypatch.undo()

    return Switch()


def both(client, reference, path, params=None):
    lean = client.get(path, params or {})
    with reference:
        old = client.get(path, params or {})
    return lean, old


@pytest.mark.parametrize(
    ("role", "zone"),
    [
        ("poc", "UTC"),
        ("poc", "Asia/Seoul"),
        ("member", "UTC"),
        ("manager", "America/St_Johns"),
        ("admin", "UTC"),
    ],
)
def test_list_and_detail_answer_the_serializers_bytes(world, reference, role, zone):
    cases = arrange(world)
    viewer = world.user(role)
    User.objects.filter(pk=viewer.pk).update(time_zone=zone)
    viewer.refresh_from_db()
    client = signed_in(viewer)
    for params in (
        {"page_size": 200},
        {},
        {"page_size": 7, "ordering": "severity"},
        {"page_size": 5, "sort": "-due"},
        {"page_size": 9, "ordering": "updated_at"},
        {"status": "new,closed", "page_size": 4},
    ):
        lean, old = both(client, reference, CASES, params)
        assert lean.status_code == old.status_code == 200, lean.content
        assert lean.content == old.content, params
        assert lean.headers.get("Link") == old.headers.get("Link")
    body = lean.json()
    # Follow the cursor of a small page: the next page is the same too.
    first, _ = both(client, reference, CASES, {"page_size": 3, "ordering": "-severity"})
    following = first.json()["next"]
    lean, old = both(client, reference, following)
    assert lean.content == old.content and lean.json()["results"]
    listed = {
        row["id"] for row in both(client, reference, CASES, {"page_size": 200})[0].json()["results"]
    }
    other = set(Case.objects.filter(subject="B's item").values_list("pk", flat=True))
    assert listed == {case.pk for case in cases} | (other if role == "admin" else set())
    for case in cases:
        lean, old = both(client, reference, f"{CASES}{case.pk}/")
        assert lean.status_code == 200 and lean.content == old.content
        assert lean["ETag"] == old["ETag"]
    assert body["results"]  # the filtered list showed rows


def test_the_sample_covers_what_the_representation_shows(world, reference):
    """The comparison above is only as good as its sample: it holds every SLA state, covers,
    RCAs, ratings, escalations, priorities and empty and set times."""
    arrange(world)
    rows = signed_in(world.manager).get(CASES, {"page_size": 200}).json()["results"]
    assert {row["sla"] for row in rows} == {"on_track", "at_risk", "breached", "responded"}
    assert {row["response_met"] for row in rows} == {True, False, None}
    assert {row["status"] for row in rows} == set(Case.Status.values)
    assert {row["severity"] for row in rows} == set(Case.Severity.values)
    assert any(row["covering"] for row in rows) and any(row["covering"] is None for row in rows)
    assert any(row["rca"] for row in rows) and any(row["rca"] is None for row in rows)
    assert any(row["rca"] and row["rca"]["author"] is None for row in rows)
    assert any(row["rating"] for row in rows) and any(row["rating"] is None for row in rows)
    assert any(row["escalated_at"] for row in rows) and any(not row["escalated_at"] for row in rows)
    assert any(row["assignee"] is None for row in rows)
    assert any(row["priority"] for row in rows) and any(row["priority"] is None for row in rows)
    assert any(row["closed_at"] for row in rows)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kolkata"])
def test_rows_render_as_the_serializer_at_the_same_instant(world, zone):
    """Without HTTP: the same instant, the same time zone, the same bytes."""
    arrange(world)
    now = timezone.now()
    with timezone.override(zone):
        cases = Case.objects.select_related("rca", "rating").order_by("id")
        reference = JSONRenderer().render(
            CaseSerializer(cases, many=True, context={"now": now}).data
        )
        lean = JSONRenderer().render(
            case_representations(list(case_rows(Case.objects.order_by("id"))), now=now)
        )
    assert lean == reference
    # Each field of the reference is in the rows' representation, in its order.
    one = case_representations(list(case_rows(Case.objects.order_by("id")[:1])), now=now)[0]
    assert list(one) == list(CaseSerializer().fields)


def test_another_tenants_item_is_404_alike(world, reference):
    arrange(world)
    other = Case.objects.get(subject="B's item")
    client = signed_in(world.a.poc)
    for path in (f"{CASES}{other.pk}/", f"{CASES}987654/", f"{CASES}abc/"):
        lean, old = both(client, reference, path)
        assert lean.status_code == old.status_code == 404
        assert lean.content == old.content


def test_the_browsable_api_keeps_the_serializer(world, monkeypatch):
    arrange(world)
    called = []
    original = CaseSerializer.to_representation

    def spy(self, instance):
        called.append(instance.pk)
        return original(self, instance)

    monkeypatch.setattr(CaseSerializer, "to_representation", spy)
    client = signed_in(world.manager)
    assert client.get(CASES).status_code == 200
    assert called == []  # JSON: the lean path
    response = client.get(CASES, HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and called


@pytest.mark.parametrize("role", ["poc", "manager"])
def test_pages_read_an_engagement_at_a_time_in_the_same_order(world, role, spread_cases):
    """On PostgreSQL the page's ids come from each engagement's first rows (`page_ids`): the
    pages, followed by cursor in both directions, are those of one sort over every row —
    ties of `received_at` across engagements broken by id."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    expected = spread_cases(40, closed_every=3)
    client = signed_in(world.user(role))
    for params, order in (
        ({"page_size": 7}, expected),
        ({"page_size": 6, "ordering": "received_at"}, expected[::-1]),
        ({"page_size": 5, "sort": "raised"}, expected[::-1]),
    ):
        seen, page = [], client.get(CASES, params).json()
        while True:
            seen += [row["id"] for row in page["results"]]
            if not page["next"]:
                break
            page = client.get(page["next"]).json()
        assert seen == order, params
        # Back from the last page by the `previous` links: the same order again.
        back = [row["id"] for row in page["results"]]
        while page["previous"]:
            page = client.get(page["previous"]).json()
            back = [row["id"] for row in page["results"]] + back
        assert back == order, params
    filtered = client.get(CASES, {"status": "closed", "page_size": 100}).json()["results"]
    assert [row["id"] for row in filtered] == [
        pk for pk in expected if Case.objects.get(pk=pk).status == Case.Status.CLOSED
    ]
    with CaptureQueriesContext(connection) as queries:
        client.get(CASES)
    split = any("UNION ALL" in query["sql"] for query in queries.captured_queries)
    assert split == (connection.vendor == "postgresql")
