"""`generate_dataset`: sizes, consistency with the services' rules, determinism, refusals, and
the portal working over the generated rows."""

import io
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from cases.casework.models import Case, CaseEvent, SlaReminder
from cases.sla import response_deadlines
from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from engagements.time.models import TimeEntry
from portal.accounts.models import User
from portal.demo.dataset import DatasetError, Sizes, apportion, generate
from portal.tenancy.models import Membership, Organization
from reviews.scheduling.models import Occurrence
from reviews.scheduling.scheduler import schedule_engagement
from tests.conftest import signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]

SMALL = Sizes(
    organizations=5,
    engagements=6,
    managers=4,
    cases=300,
    open_cases=40,
    occurrences=120,
    time_entries=200,
)
FIXED = datetime(2026, 6, 15, 9, tzinfo=UTC)
TABLES = (User, Organization, Membership, Engagement, Contact, Case, CaseEvent, SlaReminder,
          Occurrence, TimeEntry)  # fmt: skip


def fingerprint() -> dict[str, str]:
    """A digest of every generated table's rows, in id order."""
    digests = {}
    with connection.cursor() as cursor:
        for model in TABLES:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) "
                f"FROM {table} t"
            )
            digests[table] = "{}:{}".format(*cursor.fetchone())
    return digests


def test_apportion_sums_and_respects_caps() -> None:
    assert apportion(10, [1, 1, 2]) == [3, 2, 5]
    shares = apportion(100, [5.0, 1.0, 1.0], caps=[20, 100, 100])
    assert sum(shares) == 100 and shares[0] == 20
    with pytest.raises(DatasetError):
        apportion(10, [1, 1], caps=[2, 2])


def test_counts_split_and_consistency() -> None:
    report = generate(SMALL, seed=7, as_of=FIXED)
    assert Organization.objects.count() == 5
    assert Engagement.objects.count() == 6
    assert User.objects.filter(kind=User.Kind.MANAGER).count() == 4
    assert Case.objects.count() == 300
    assert Case.objects.filter(status__in=Case.OPEN_STATUSES).count() == 40
    assert Occurrence.objects.count() == 120
    assert TimeEntry.objects.count() == 200
    assert {table for table, _rows, _seconds in report.tables} >= {"cases_case", "cases_caseevent"}

    # Every case is raised by a member of its engagement's organization, inside the term.
    members = set(Membership.objects.values_list("organization_id", "user_id"))
    for case in Case.objects.select_related("engagement"):
        engagement = case.engagement
        assert (engagement.organization_id, case.raised_by_id) in members
        assert case.received_at <= FIXED
        assert case.received_at.astimezone(engagement.zone).date() >= engagement.start_date
        assert case.reminder_due_at < case.response_due_at
        if case.is_open:
            assert case.resolved_at is None and case.closed_at is None
        else:
            assert case.first_response_at is not None and case.resolved_at is not None
            assert case.received_at < case.first_response_at <= case.resolved_at <= FIXED
            assert not (case.status == "closed" and case.kind == "incident" and case.severity == 0)
        assert (case.first_response_at is None) == (case.status == Case.Status.NEW)
    # Response objectives are what the service computes from the engagement's calendar.
    for case in Case.objects.select_related("engagement__plan").order_by("id")[::17]:
        assert (case.reminder_due_at, case.response_due_at) == response_deadlines(
            case.engagement, case.received_at
        )
    # Named contacts: customers of the engagement's organization, at most the plan's limit.
    for engagement in Engagement.objects.select_related("plan"):
        contacts = list(Contact.objects.filter(engagement=engagement, removed_at=None))
        assert 1 <= len(contacts) <= engagement.plan.max_contacts
        assert all((engagement.organization_id, c.user_id) in members for c in contacts)
        assert engagement.deputy_id != engagement.manager_id
    # The cap of open items per manager holds; answered items have a response event.
    open_load = Counter(
        Case.objects.filter(status__in=Case.OPEN_STATUSES, assignee__isnull=False).values_list(
            "assignee_id", flat=True
        )
    )
    assert max(open_load.values()) <= 30
    assert CaseEvent.objects.filter(kind="created").count() == 300
    assert (
        CaseEvent.objects.filter(kind="response").count()
        == Case.objects.filter(first_response_at__isnull=False).count()
    )
    # SLA reminders exist exactly for unanswered open items past their thresholds.
    unanswered = Case.objects.filter(status=Case.Status.NEW)
    expected = {(c.pk, "at_risk") for c in unanswered if c.reminder_due_at <= FIXED} | {
        (c.pk, "breached") for c in unanswered if c.response_due_at <= FIXED
    }
    assert set(SlaReminder.objects.values_list("case_id", "threshold")) == expected
    # Occurrences are in the past and the time entries inside the terms.
    assert not Occurrence.objects.filter(scheduled_start__gte=FIXED).exists()
    for entry in TimeEntry.objects.select_related("engagement"):
        assert entry.engagement.start_date <= entry.date <= FIXED.date()


def test_same_seed_same_data_other_seed_other_data() -> None:
    def load(seed: int) -> dict[str, str]:
        savepoint = transaction.savepoint()
        generate(SMALL, seed=seed, as_of=FIXED)
        digest = fingerprint()
        transaction.savepoint_rollback(savepoint)
        assert not Case.objects.exists()
        return digest

    first = load(11)
    assert first == load(11)
    other = load(12)
    assert other["cases_case"] != first["cases_case"]
    assert other["tenancy_organization"] != first["tenancy_organization"]


def test_refuses_a_non_empty_database_and_appends_once() -> None:
    generate(SMALL, seed=3, as_of=FIXED)
    with pytest.raises(DatasetError, match="already holds"):
        generate(SMALL, seed=3, as_of=FIXED)
    with pytest.raises(CommandError, match="already holds"):
        call_command(
            "generate_dataset",
            "--organizations=5",
            "--engagements=6",
            "--cases=10",
            "--open-cases=1",
        )
    with pytest.raises(DatasetError, match="loaded here already"):
        generate(SMALL, seed=3, as_of=FIXED, append=True)


def test_appends_next_to_other_data() -> None:
    User.objects.create_user("someone@else.test", kind=User.Kind.MANAGER)
    Organization.objects.create(name="Existing", slug="existing")
    generate(SMALL, seed=5, as_of=FIXED, append=True)
    assert Organization.objects.count() == 6
    assert Case.objects.count() == 300
    # Sequences continue after the loaded ids.
    existing = Organization.objects.get(slug="existing").pk
    loaded = sorted(Organization.objects.exclude(slug="existing").values_list("id", flat=True))
    assert loaded == list(range(existing + 1, existing + 6))
    assert Organization.objects.create(name="Later", slug="later").pk == existing + 6


def test_refuses_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(DatasetError, match="PostgreSQL"):
        generate(SMALL)


def test_refuses_inconsistent_sizes() -> None:
    with pytest.raises(DatasetError):
        generate(Sizes(organizations=5, engagements=4))
    with pytest.raises(DatasetError):
        generate(Sizes(cases=10, open_cases=11))


def test_the_portal_works_over_the_generated_rows() -> None:
    as_of = timezone.now().replace(minute=0, second=0, microsecond=0)
    call_command(
        "generate_dataset",
        "--organizations=5",
        "--engagements=6",
        "--managers=4",
        "--cases=300",
        "--open-cases=40",
        "--occurrences=120",
        "--time-entries=200",
        f"--as-of={as_of.isoformat()}",
        stdout=io.StringIO(),
    )
    organization = Organization.objects.get(slug="org-00001")
    poc = User.objects.get(email="poc1@org-00001.example")
    assert poc.check_password("portal-bench-2026")
    own = set(
        Case.objects.filter(engagement__organization=organization).values_list("id", flat=True)
    )
    assert own and len(own) < 300
    client = signed_in(poc)
    seen: list[int] = []
    url = "/api/v1/cases/?page_size=200"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(own)
    other = Case.objects.exclude(engagement__organization=organization).first()
    assert client.get(f"/api/v1/cases/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/cases/{min(own)}/").status_code == 200
    assert client.get("/", follow=True).status_code == 200

    # The scheduler finds the past periods taken and adds only the coming ones.
    engagement = (
        Engagement.objects.filter(plan__code="premium").first() or Engagement.objects.first()
    )
    before = Occurrence.objects.filter(engagement=engagement).count()
    result = schedule_engagement(engagement)
    assert result.created > 0 and result.moved == 0 and result.cancelled == 0
    new = Occurrence.objects.filter(engagement=engagement).order_by("scheduled_start")
    assert new.count() == before + result.created
    assert not new.filter(scheduled_start__lt=timezone.now(), status="scheduled").exists()
    assert schedule_engagement(engagement).created == 0
    # A manager sees exactly the cases of the engagements they serve.
    manager = engagement.manager
    served = set(Engagement.objects.filter(manager=manager).values_list("id", flat=True)) | set(
        Engagement.objects.filter(deputy=manager).values_list("id", flat=True)
    )
    response = signed_in(manager).get("/api/v1/cases/?page_size=200")
    assert response.status_code == 200
    assert {row["engagement"] for row in response.json()["results"]} <= served
