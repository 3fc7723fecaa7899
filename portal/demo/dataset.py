"""A deterministic synthetic data set for benchmarks, loaded into PostgreSQL with COPY.

`generate(sizes, seed=…, as_of=…)` writes organizations, provider staff, customer users (with
memberships, verified e-mail addresses and named contacts), engagements across the catalog's
three plans, cases with a timeline entry or two each, the SLA reminders already sent for them,
past occurrences of the plans' cadences and time entries. The same seed, sizes and `as_of`
give the same rows, ids included, in a fresh database.

The rows obey what the services would have produced:

* every case belongs to an engagement of its organization, is raised by one of the
  engagement's named contacts and received inside the engagement's term, by `as_of`;
* `reminder_due_at` and `response_due_at` are computed per case with
  `engagements.business_time.add_business_days` on the engagement's calendar (its zone, the
  default hours and its country's public holidays) exactly as `cases.sla.response_deadlines`
  does: the generated engagements have no extra holidays and no after-hours windows, so that
  calendar is the same for every engagement of one (zone, country) pair and is built once per pair;
* an open item is assigned to the engagement's manager, else its deputy, while they are under
  the plan's cap of open items per manager, else it waits in the provider queue (as
  `case_raise` does); answered items carry the first response and a RESPONSE event; closed
  severity-0 incidents stop at "resolved" (closing one needs a root cause analysis);
* unanswered open items whose 75 % or due time had passed by `as_of` have their `SlaReminder`
  rows, as if the scanner had been running (its notifications are not generated);
* occurrences are the plans' weekly/monthly/quarterly cadences and weekly calls in the past,
  with the scheduler's periods and slots (`reviews.scheduling.scheduler.slot` and
  `back_to_back`), so a
  scheduler run creates only the future horizon; the most recent ones per engagement are kept;
* an organization has at most the plan's `max_contacts` named contacts per engagement.

Every user has the password `DATASET_PASSWORD`, hashed once with a salt derived from the seed.
"""

from __future__ import annotations

import hashlib
import json
import random
import time as timer
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar, cast
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from portal.tenancy.scoping import raw_sql, unscoped

if TYPE_CHECKING:
    from engagements.business_time import BusinessCalendar

_T = TypeVar("_T")

DATASET_PASSWORD = "portal-bench-2026"
DEFAULT_SEED = 20261128
ADMIN_EMAIL = "admin@bench.example"

# (zone, holiday country, language): the engagement calendars the data set uses.
CALENDARS = [
    ("Europe/Berlin", "DE", "en"),
    ("Asia/Seoul", "KR", "ko"),
    ("America/New_York", "US", "en"),
    ("Europe/London", "GB", "en"),
    ("Asia/Tokyo", "JP", "en"),
    ("UTC", "", "en"),
]
REVIEW_SLOTS = [time(9, 30), time(10), time(11), time(14), time(15, 30)]
PLAN_CODES = ("tsam", "standard", "premium")
PLAN_LABELS = {"tsam": "TSAM", "standard": "Standard", "premium": "Premium"}
_NAME_FIRST = [
    "Apex", "Blue", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
    "Kestrel", "Lumen", "Maple", "Nimbus", "Orchid", "Pioneer", "Quartz", "River", "Summit",
    "Tidal", "Umber", "Vertex", "Willow", "Zenith",
]  # fmt: skip
_NAME_SECOND = [
    "Logistics", "Pharmaceuticals", "Energy", "Telecom", "Insurance", "Retail", "Foods",
    "Motors", "Finance", "Health", "Shipping", "Analytics", "Chemicals", "Aerospace", "Media",
    "Robotics", "Textiles", "Utilities",
]  # fmt: skip
_SUFFIX = ["Ltd", "GmbH", "Inc", "Co", "AG", "Group", "Holdings", "Corp"]
_PEOPLE_FIRST = [
    "Ada", "Ben", "Chloe", "Dmitri", "Eun-ji", "Farah", "Gustav", "Hana", "Ivan", "Jiwoo",
    "Kenji", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
    "Uma", "Viktor", "Wen", "Yuki",
]  # fmt: skip
_PEOPLE_LAST = [
    "Kim", "Berg", "Okafor", "Schmidt", "Tanaka", "Patel", "Garcia", "Lund", "Park", "Novak",
    "Rossi", "Cho", "Müller", "Hill", "Lee", "Silva", "Weber", "Ito", "Khan", "Moreau",
]  # fmt: skip
_SUBJECTS = [
    "Nightly export job fails",
    "How do we rotate the integration certificates?",
    "Add users to the reporting workspace",
    "Dashboard loads slowly after the upgrade",
    "Single sign-on rejects new employees",
    "Question about licence renewal",
    "API returns 502 under load",
    "Backup verification report missing",
    "Request a sandbox refresh",
    "Search index out of date",
    "Alert e-mails arrive twice",
    "Data import stops at 80 %",
]
_RESPONSES = [
    "Thanks, we are looking into it.",
    "Reproduced on our side; a fix is being prepared.",
    "Could you send the log of the last run?",
    "Done: please check and confirm.",
]
_KINDS = (("inquiry", 45), ("incident", 35), ("service_request", 20))
_SEVERITIES = ((0, 2), (1, 15), (2, 50), (3, 33))
_OPEN_ANSWERED = (("responded", 40), ("in_progress", 35), ("awaiting_customer", 25))
_ACTIVITIES = ("call", "review", "case", "report", "planning", "advocacy", "other")
_MINUTES = (15, 30, 30, 45, 60, 60, 90, 120, 180, 240)
UNANSWERED_SHARE = 0.25  # of the open items: new, with no first response yet


class DatasetError(Exception):
    """The data set cannot be generated here (wrong database, not empty, bad sizes)."""


@dataclass(frozen=True)
class Sizes:
    organizations: int = 2_000
    engagements: int = 3_000
    managers: int = 200
    cases: int = 1_000_000
    open_cases: int = 100_000
    occurrences: int = 300_000
    time_entries: int = 500_000

    def check(self) -> None:
        if self.organizations < 1:
            raise DatasetError("At least one organization is needed.")
        if self.engagements < self.organizations:
            raise DatasetError(
                "Every organization needs an engagement: engagements >= organizations."
            )
        if self.engagements > 3 * self.organizations:
            raise DatasetError("An organization holds at most one engagement of each plan.")
        if self.managers < 2:
            raise DatasetError("At least two managers are needed (a manager and a deputy).")
        if not 0 <= self.open_cases <= self.cases:
            raise DatasetError("open_cases must be between 0 and cases.")
        if min(self.occurrences, self.time_entries) < 0:
            raise DatasetError("Sizes cannot be negative.")


@dataclass
class LoadReport:
    as_of: datetime
    seed: int
    tables: list[tuple[str, int, float]] = field(default_factory=list)  # table, rows, seconds
    total_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- Helpers -----------------------------------------------------------------------------------


def _weighted(rng: random.Random, choices: Sequence[tuple[_T, int]]) -> Callable[[], _T]:
    values = [value for value, _weight in choices]
    cumulative = []
    total = 0
    for _value, weight in choices:
        total += weight
        cumulative.append(total)

    def pick() -> _T:
        return rng.choices(values, cum_weights=cumulative)[0]

    return pick


def apportion(total: int, weights: Sequence[float], caps: Sequence[int] | None = None) -> list[int]:
    """Integers proportional to `weights` summing to `total` (largest remainders; ties by index).
    With `caps`, no share exceeds its cap (the excess goes to the others)."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    shares = [0] * len(weights)
    remaining = total
    active = [index for index, weight in enumerate(weights) if weight > 0] or list(
        range(len(weights))
    )
    while remaining > 0 and active:
        weight_sum = sum(weights[index] for index in active) or len(active)
        exact = {index: remaining * (weights[index] or 1) / weight_sum for index in active}
        given = {index: int(exact[index]) for index in active}
        left = remaining - sum(given.values())
        for index in sorted(active, key=lambda index: (given[index] - exact[index], index))[:left]:
            given[index] += 1
        overflow = 0
        for index in active:
            room = caps[index] - shares[index] if caps is not None else given[index]
            taken = min(given[index], room)
            shares[index] += taken
            overflow += given[index] - taken
        remaining = overflow
        if caps is not None:
            active = [index for index in active if shares[index] < caps[index]]
    if remaining > 0:
        raise DatasetError("The caps leave no room for all rows.")
    return shares


@dataclass
class _Plan:
    id: int
    code: str
    response_days: Decimal
    max_contacts: int
    max_open: int
    weekly_call: bool
    case_management: bool
    wanted: list  # reviews.scheduling.scheduler.Wanted


@dataclass
class _Engagement:
    id: int
    organization_id: int
    plan: _Plan
    manager_id: int
    deputy_id: int
    start_date: date
    end_date: date
    zone_name: str
    country: str
    review_slot: time
    contacts: list[int]
    weight: float = 1.0


class _Copier:
    """COPY rows into one table at a time and time each table."""

    def __init__(
        self, report: LoadReport, log: Callable[[str], None], stamp: datetime | None = None
    ) -> None:
        self.report = report
        self.log = log
        # created_at/updated_at of the rows that do not give their own (sync's timestamps).
        self.stamp = stamp

    def copy(self, model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
        table = model._meta.db_table
        names = {field.name for field in model._meta.concrete_fields}
        stamped = [
            name for name in ("created_at", "updated_at") if name in names and name not in fields
        ]
        if stamped:
            stamp = self.stamp or timezone.now()
            fields = [*fields, *stamped]
            rows = (tuple(row) + (stamp,) * len(stamped) for row in rows)
        columns = ", ".join(
            connection.ops.quote_name(cast(models.Field, model._meta.get_field(name)).column)
            for name in fields
        )
        started = timer.perf_counter()
        count = 0
        # PostgreSQL's advice for bulk loads: drop the table's secondary indexes and foreign
        # keys, COPY, then build the indexes once and re-add the keys, which checks every row
        # in one pass. DDL is transactional, so a failure leaves the table as it was.
        with transaction.atomic(), raw_sql("bulk load with COPY", driver=True) as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem TO '256MB'")
            # A bulk load need not wait for the disk. LOCAL: the setting ends with this
            # transaction, so behind PgBouncer's transaction pooling it never reaches the next
            # client of the same server connection.
            cursor.execute("SET LOCAL synchronous_commit TO off")
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
                [table],
            )
            foreign_keys = cursor.fetchall()
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname "
                "AND c.conrelid = %s::regclass) ORDER BY i.indexname",
                [table, table],
            )
            indexes = cursor.fetchall()
            for name, _definition in foreign_keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            for _name, definition in indexes:
                cursor.execute(definition)
            for name, definition in foreign_keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        elapsed = timer.perf_counter() - started
        self.report.tables.append((table, count, elapsed))
        self.log(f"{table:<32} {count:>10,} rows {elapsed:>8.1f} s")
        return count


# --- The generator -------------------------------------------------------------------------------


class _Generator:
    def __init__(
        self, sizes: Sizes, seed: int, as_of: datetime, copier: _Copier, log: Callable
    ) -> None:
        self.sizes = sizes
        self.seed = seed
        self.as_of = as_of
        self.copier = copier
        self.log = log
        self.rng = random.Random(seed)  # noqa: S311 -- reproducible data, not security
        self.ids: dict[str, int] = {}

    # ids: after the current maximum (1 in an empty database)
    def _first_id(self, model: type[models.Model]) -> int:
        if model._meta.label not in self.ids:
            rows = unscoped(model, "new ids follow every tenant's rows")
            found = rows.aggregate(top=models.Max("id"))["top"] or 0
            self.ids[model._meta.label] = found + 1
        return self.ids[model._meta.label]

    def run(self) -> None:
        from allauth.account.models import EmailAddress

        from cases.casework.models import Case, CaseEvent, SlaReminder
        from engagements.contacts.models import Contact
        from engagements.contracts.models import Engagement
        from engagements.time.models import TimeEntry
        from portal.accounts.models import User
        from portal.tenancy.models import Membership, Organization
        from reviews.scheduling.models import Occurrence

        self.plans = _load_plans()
        self.calendars = self._calendars()
        user_id = self._first_id(User)
        organization_id = self._first_id(Organization)
        membership_id = self._first_id(Membership)
        email_id = self._first_id(EmailAddress)
        engagement_id = self._first_id(Engagement)
        contact_id = self._first_id(Contact)
        self.case_id = self._first_id(Case)
        self.event_id = self._first_id(CaseEvent)
        self.reminder_id = self._first_id(SlaReminder)
        self.occurrence_id = self._first_id(Occurrence)
        self.entry_id = self._first_id(TimeEntry)

        self._people(user_id, organization_id)
        copy = self.copier.copy
        copy(
            User,
            ["id", "password", "last_login", "is_superuser", "email", "name", "kind",
             "time_zone", "language", "is_active", "date_joined"],
            self.user_rows,
        )  # fmt: skip
        copy(
            EmailAddress,
            ["id", "email", "verified", "primary", "user"],
            ((email_id + n, row[4], True, True, row[0]) for n, row in enumerate(self.user_rows)),
        )
        copy(
            Organization,
            ["id", "name", "slug", "is_active", "logo", "created_at"],
            self.organization_rows,
        )
        copy(
            Membership,
            ["id", "organization", "user", "role", "is_active", "created_at"],
            (
                (membership_id + n, org, user, role, True, self._joined)
                for n, (org, user, role) in enumerate(self.membership_rows)
            ),
        )
        self._engagements(engagement_id)
        copy(
            Engagement,
            ["id", "organization", "plan", "name", "start_date", "end_date", "manager",
             "deputy", "timezone", "business_hours", "holiday_country", "language",
             "review_slot", "created_at"],
            self.engagement_rows,
        )  # fmt: skip
        contact_rows = [
            (engagement.id, user, datetime.combine(engagement.start_date, time(8), tzinfo=UTC))
            for engagement in self.engagements
            for user in engagement.contacts
        ]
        copy(
            Contact,
            ["id", "engagement", "user", "added_at", "added_by", "removed_at", "removed_by"],
            (
                (contact_id + n, engagement, user, added, None, None, None)
                for n, (engagement, user, added) in enumerate(contact_rows)
            ),
        )
        self.events: list[tuple] = []
        self.reminders: list[tuple] = []
        copy(
            Case,
            ["id", "engagement", "kind", "severity", "priority", "subject", "description",
             "status", "received_at", "response_due_at", "reminder_due_at",
             "first_response_at", "first_response_by", "resolved_at", "closed_at", "assignee",
             "raised_by", "escalated_at", "escalated_by", "updated_at"],
            self._cases(),
        )  # fmt: skip
        copy(
            CaseEvent,
            ["id", "case", "kind", "actor", "public", "body", "data", "created_at"],
            self.events,
        )
        self.events = []
        copy(
            SlaReminder,
            ["id", "case", "threshold", "sent_at", "recipients"],
            self.reminders,
        )
        copy(
            Occurrence,
            ["id", "engagement", "deliverable", "period", "scheduled_start",
             "duration_minutes", "method", "status", "other_attendees", "minutes",
             "requested_by", "request_note", "completed_at", "completed_by", "created_at"],
            self._occurrences(),
        )  # fmt: skip
        copy(
            TimeEntry,
            ["id", "engagement", "manager", "date", "minutes", "activity", "note",
             "created_at"],
            self._time_entries(),
        )  # fmt: skip
        self.loaded_models = [
            User, EmailAddress, Organization, Membership, Engagement, Contact, Case,
            CaseEvent, SlaReminder, Occurrence, TimeEntry,
        ]  # fmt: skip

    # --- calendars -----------------------------------------------------------------------------

    def _calendars(self) -> dict[str, BusinessCalendar]:
        from engagements.business_time import BusinessCalendar, country_holidays
        from engagements.contracts.models import default_business_hours, parse_business_hours

        years = range(self.as_of.year - 4, self.as_of.year + 4)
        hours = parse_business_hours(default_business_hours())
        return {
            zone: BusinessCalendar(
                zone=ZoneInfo(zone),
                hours=hours,
                holidays=frozenset(country_holidays(country, tuple(years)))
                if country
                else frozenset(),
            )
            for zone, country, _language in CALENDARS
        }

    # --- people and organizations ------------------------------------------------------------

    def _people(self, first_user: int, first_organization: int) -> None:
        from portal.accounts.models import User

        rng = self.rng
        sizes = self.sizes
        password = make_password(
            DATASET_PASSWORD, salt=hashlib.sha256(f"dataset-{self.seed}".encode()).hexdigest()[:22]
        )
        self._joined = self.as_of - timedelta(days=4 * 365)
        rows: list[tuple] = []
        next_user = first_user

        def person() -> str:
            return f"{rng.choice(_PEOPLE_FIRST)} {rng.choice(_PEOPLE_LAST)}"

        def add(
            email: str, name: str, kind: str, zone: str, language: str, superuser: bool = False
        ) -> int:
            nonlocal next_user
            rows.append(
                (next_user, password, None, superuser, email, name, kind, zone, language, True,
                 self._joined)
            )  # fmt: skip
            next_user += 1
            return next_user - 1

        self.admin_id = add(ADMIN_EMAIL, "Bench Admin", User.Kind.ADMIN, "UTC", "en", True)
        self.manager_ids = []
        for n in range(1, sizes.managers + 1):
            zone, _country, language = CALENDARS[n % len(CALENDARS)]
            self.manager_ids.append(
                add(f"manager-{n:04d}@bench.example", person(), User.Kind.MANAGER, zone, language)
            )
        self.organization_rows = []
        self.membership_rows = []
        self.organizations = []  # (id, name, pocs, zone index)
        for n in range(1, sizes.organizations + 1):
            organization_id = first_organization + n - 1
            slug = f"org-{n:05d}"
            name = f"{rng.choice(_NAME_FIRST)} {rng.choice(_NAME_SECOND)} {rng.choice(_SUFFIX)} {n}"
            calendar_index = rng.randrange(len(CALENDARS))
            zone, _country, language = CALENDARS[calendar_index]
            self.organization_rows.append(
                (organization_id, name, slug, True, "", self._joined + timedelta(minutes=n))
            )
            pocs = []
            for number in range(1, 1 + rng.choice((1, 2, 2, 3))):
                user = add(f"poc{number}@{slug}.example", person(), "customer", zone, language)
                pocs.append(user)
                self.membership_rows.append((organization_id, user, "poc"))
            for number in range(1, 1 + rng.choice((0, 1, 1, 2))):
                user = add(f"member{number}@{slug}.example", person(), "customer", zone, language)
                self.membership_rows.append((organization_id, user, "member"))
            self.organizations.append((organization_id, name, pocs, calendar_index))
        self.user_rows = rows

    # --- engagements -----------------------------------------------------------------------------

    def _engagements(self, first_id: int) -> None:
        rng = self.rng
        sizes = self.sizes
        plans = [self.plans[code] for code in PLAN_CODES]
        # Each organization gets one engagement; the rest go to organizations picked at random,
        # each at most once per plan.
        owners = list(range(sizes.organizations))
        extra = sizes.engagements - sizes.organizations
        pool = [index for index in range(sizes.organizations) for _again in (1, 2)]
        rng.shuffle(pool)
        owners += pool[:extra]
        owners.sort()
        taken: dict[int, set[str]] = {}
        self.engagements = []
        self.engagement_rows = []
        today = self.as_of.date()
        for n, owner in enumerate(owners):
            organization_id, org_name, pocs, calendar_index = self.organizations[owner]
            used = taken.setdefault(owner, set())
            plan = rng.choice([plan for plan in plans if plan.code not in used])
            used.add(plan.code)
            zone, country, language = CALENDARS[calendar_index]
            start = today - timedelta(days=rng.randint(45, 3 * 365))
            end = max(
                start + timedelta(days=365 * rng.choice((1, 2, 3)) - 1),
                today + timedelta(days=rng.randint(120, 720)),
            )
            manager = rng.choice(self.manager_ids)
            deputy = rng.choice([m for m in self.manager_ids if m != manager])
            contacts = pocs[: plan.max_contacts]
            engagement = _Engagement(
                id=first_id + n,
                organization_id=organization_id,
                plan=plan,
                manager_id=manager,
                deputy_id=deputy,
                start_date=start,
                end_date=end,
                zone_name=zone,
                country=country,
                review_slot=rng.choice(REVIEW_SLOTS),
                contacts=contacts,
                # Busy engagements are busy for longer: volume grows with the elapsed term,
                # times a spread that makes some ten times as busy as others.
                weight=(today - start).days * min(rng.lognormvariate(0, 0.8), 10.0),
            )
            self.engagements.append(engagement)
            self.engagement_rows.append(
                (engagement.id, organization_id, plan.id,
                 f"{org_name} · {PLAN_LABELS[plan.code]}", start, end, manager, deputy, zone,
                 json.dumps([["09:00", "17:00"]] * 5 + [None, None]), country, language,
                 engagement.review_slot, datetime.combine(start, time(7), tzinfo=UTC))
            )  # fmt: skip

    # --- cases ---------------------------------------------------------------------------------

    def _cases(self) -> Iterator[tuple]:
        from engagements.business_time import add_business_days

        rng = random.Random(self.seed * 7 + 1)  # noqa: S311 -- reproducible data, not security
        sizes = self.sizes
        weights = [engagement.weight for engagement in self.engagements]
        totals = apportion(sizes.cases, weights)
        opens = apportion(sizes.open_cases, totals, caps=totals)
        kind_of = _weighted(rng, _KINDS)
        severity_of = _weighted(rng, _SEVERITIES)
        open_status_of = _weighted(rng, _OPEN_ANSWERED)
        as_of = self.as_of
        open_load: dict[int, int] = {}
        admins = [self.admin_id]
        case_id = self.case_id
        event_id = self.event_id
        reminder_id = self.reminder_id
        events = self.events
        reminders = self.reminders
        for engagement, total, open_count in zip(self.engagements, totals, opens, strict=True):
            if total == 0:
                continue
            calendar = self.calendars[engagement.zone_name]
            target = engagement.plan.response_days
            reminder_days = target * Decimal("0.75")
            start = datetime.combine(engagement.start_date, time(), tzinfo=calendar.zone)
            span = (as_of - timedelta(days=3) - start).total_seconds()
            contacts = engagement.contacts
            received_list: list[tuple[datetime, str]] = []
            for _n in range(total - open_count):
                received_list.append((start + timedelta(seconds=rng.random() * span), "closed"))
            for _n in range(open_count):
                if rng.random() < UNANSWERED_SHARE:
                    back = min(rng.expovariate(1 / (2 * 86_400)), 7 * 86_400)
                    state = "new"
                else:
                    back = 3_600 + rng.random() * 60 * 86_400
                    state = "open"
                received = max(as_of - timedelta(seconds=back), start)
                received_list.append((received, state))
            received_list.sort()
            for received, state in received_list:
                received = received.replace(microsecond=0)
                due = add_business_days(calendar, received, target)
                reminder = add_business_days(calendar, received, reminder_days)
                kind = kind_of()
                severity = severity_of()
                raised_by = rng.choice(contacts)
                responder = engagement.manager_id if rng.random() < 0.85 else engagement.deputy_id
                first_response: datetime | None = None
                resolved: datetime | None = None
                closed: datetime | None = None
                first_by = None
                assignee = None
                priority = (
                    rng.randint(1, 5)
                    if engagement.plan.case_management and rng.random() < 0.6
                    else None
                )
                events.append((event_id, case_id, "created", raised_by, True, "", "{}", received))
                event_id += 1
                if state != "new":
                    window = (due - received).total_seconds()
                    first_response = received + timedelta(seconds=window * rng.random() * 1.15)
                    first_response = max(
                        min(first_response, as_of - timedelta(minutes=1)),
                        received + timedelta(minutes=1),
                    ).replace(microsecond=0)
                    first_by = responder
                    events.append(
                        (event_id, case_id, "response", responder, True,
                         rng.choice(_RESPONSES), "{}", first_response)
                    )  # fmt: skip
                    event_id += 1
                if state == "closed":
                    assert first_response is not None  # answered before it closed
                    resolved = first_response + timedelta(
                        seconds=min(rng.expovariate(1 / (3 * 86_400)), 60 * 86_400)
                    )
                    resolved = min(resolved, as_of - timedelta(seconds=30)).replace(microsecond=0)
                    resolved = max(resolved, first_response)
                    closing = resolved + timedelta(days=rng.uniform(1, 5))
                    critical_incident = kind == "incident" and severity == 0
                    if closing <= as_of and not critical_incident and rng.random() < 0.8:
                        status = "closed"
                        closed = closing.replace(microsecond=0)
                    else:
                        status = "resolved"
                    assignee = responder
                    updated = closed or resolved
                else:
                    status = "new" if state == "new" else open_status_of()
                    # The cap of open items per manager, as case_raise applies it.
                    for candidate in (engagement.manager_id, engagement.deputy_id):
                        if open_load.get(candidate, 0) < engagement.plan.max_open:
                            open_load[candidate] = open_load.get(candidate, 0) + 1
                            assignee = candidate
                            break
                    updated = first_response or received
                    if state == "new":
                        people = [engagement.manager_id, assignee]
                        breach_people = [engagement.manager_id, engagement.deputy_id, assignee]
                        breach_people += admins
                        for threshold, at, who in (
                            ("at_risk", reminder, people),
                            ("breached", due, breach_people),
                        ):
                            if at <= as_of:
                                recipients = list(dict.fromkeys(p for p in who if p is not None))
                                reminders.append(
                                    (reminder_id, case_id, threshold, at, json.dumps(recipients))
                                )
                                reminder_id += 1
                yield (
                    case_id, engagement.id, kind, severity, priority,
                    f"{rng.choice(_SUBJECTS)} ({case_id})", "", status, received, due, reminder,
                    first_response, first_by, resolved, closed, assignee, raised_by, None, None,
                    updated,
                )  # fmt: skip
                case_id += 1

    # --- occurrences ---------------------------------------------------------------------------

    def _occurrences(self) -> Iterator[tuple]:
        from engagements.contracts.models import Engagement
        from reviews.scheduling.scheduler import DURATION_MINUTES, back_to_back, period_starts, slot

        rng = random.Random(self.seed * 7 + 2)  # noqa: S311 -- reproducible data, not security
        as_of = self.as_of
        per_engagement: list[list[tuple[datetime, str, str, str]]] = []
        for engagement in self.engagements:
            calendar = self.calendars[engagement.zone_name]
            model = Engagement(
                timezone=engagement.zone_name,
                review_slot=engagement.review_slot,
                start_date=engagement.start_date,
                end_date=engagement.end_date,
            )
            desired = {}
            for wanted in engagement.plan.wanted:
                for start in period_starts(wanted.frequency, engagement.start_date, as_of.date()):
                    when = slot(model, calendar, start, set())
                    if when is not None:
                        desired[(wanted.deliverable, wanted.period(start))] = (wanted, when)
            placed = back_to_back(desired, model, calendar, set())
            rows = sorted(
                (when, deliverable, period, wanted.method)
                for (deliverable, period), (wanted, when) in placed.items()
                if when < as_of
            )
            per_engagement.append(rows)
        available = [len(rows) for rows in per_engagement]
        wanted_total = min(self.sizes.occurrences, sum(available))
        if wanted_total < self.sizes.occurrences:
            self.copier.report.notes.append(
                f"occurrences: the terms hold {sum(available):,} past periods, "
                f"fewer than the {self.sizes.occurrences:,} asked for"
            )
        keep = apportion(wanted_total, [float(n) for n in available], caps=available)
        occurrence_id = self.occurrence_id
        for engagement, rows, count in zip(self.engagements, per_engagement, keep, strict=True):
            for when, deliverable, period, method in rows[len(rows) - count :]:
                duration = DURATION_MINUTES.get(deliverable, 45)
                draw = rng.random()
                status = "completed" if draw < 0.88 else "missed" if draw < 0.94 else "cancelled"
                completed = status == "completed"
                ends = when + timedelta(minutes=duration)
                yield (
                    occurrence_id, engagement.id, deliverable, period, when, duration, method,
                    status, "", "Discussed open items and next steps." if completed else "",
                    None, "", ends if completed else None,
                    engagement.manager_id if completed else None,
                    when - timedelta(days=80),
                )  # fmt: skip
                occurrence_id += 1

    # --- time entries --------------------------------------------------------------------------

    def _time_entries(self) -> Iterator[tuple]:
        rng = random.Random(self.seed * 7 + 3)  # noqa: S311 -- reproducible data, not security
        weights = [engagement.weight for engagement in self.engagements]
        totals = apportion(self.sizes.time_entries, weights)
        today = self.as_of.date()
        entry_id = self.entry_id
        for engagement, total in zip(self.engagements, totals, strict=True):
            days = (today - engagement.start_date).days
            rows = []
            for _n in range(total):
                day = engagement.start_date + timedelta(days=rng.randrange(days))
                if day.weekday() >= 5:  # weekends move to the Friday before (or the Monday after)
                    friday = day - timedelta(days=day.weekday() - 4)
                    day = friday if friday >= engagement.start_date else friday + timedelta(3)
                manager = engagement.manager_id if rng.random() < 0.9 else engagement.deputy_id
                rows.append((day, manager, rng.choice(_MINUTES), rng.choice(_ACTIVITIES)))
            rows.sort()
            for day, manager, minutes, activity in rows:
                yield (
                    entry_id, engagement.id, manager, day, minutes, activity, "",
                    datetime.combine(day, time(17), tzinfo=UTC),
                )  # fmt: skip
                entry_id += 1


def _load_plans() -> dict[str, _Plan]:
    """The catalog's three plans (seeded by the catalog migration; re-seeded if missing)."""
    from engagements.catalog.models import Cadence, Entitlement, Plan
    from engagements.entitlements import FunctionCode
    from reviews.scheduling.models import WEEKLY_CALL
    from reviews.scheduling.scheduler import SCHEDULED_FREQUENCIES, Wanted

    if Plan.objects.filter(code__in=PLAN_CODES).count() < len(PLAN_CODES):
        import importlib

        from django.apps import apps

        importlib.import_module("engagements.migrations.0002_seed_catalog").seed(apps, None)
        importlib.import_module("engagements.migrations.0009_fill_catalog_korean_names").fill(apps)
    plans = {}
    for plan in Plan.objects.filter(code__in=PLAN_CODES):
        wanted = [
            Wanted(deliverable=code, frequency=frequency, method=methods[0])
            for code, frequency, methods in Cadence.objects.filter(
                plan=plan, frequency__in=SCHEDULED_FREQUENCIES
            )
            .order_by("deliverable__position", "id")
            .values_list("deliverable__code", "frequency", "methods")
        ]
        if plan.weekly_call:
            wanted.append(Wanted(deliverable=WEEKLY_CALL, frequency="weekly", method="video"))
        plans[plan.code] = _Plan(
            id=plan.pk,
            code=plan.code,
            response_days=Decimal(plan.response_target_business_days),
            max_contacts=plan.max_contacts,
            max_open=plan.max_open_cases_per_manager,
            weekly_call=plan.weekly_call,
            case_management=Entitlement.objects.filter(
                plan=plan, function__code=FunctionCode.CASE_MANAGEMENT
            ).exists(),
            wanted=wanted,
        )
    return plans


# --- Entry point -------------------------------------------------------------------------------


def database_is_empty() -> bool:
    """No organizations, engagements, cases or users yet (the catalog may be there)."""
    from cases.casework.models import Case
    from engagements.contracts.models import Engagement
    from portal.accounts.models import User
    from portal.tenancy.models import Organization

    return not any(
        unscoped(model, "loads only into a database with no tenant's data").exists()
        for model in (User, Organization, Engagement, Case)
    )


def default_as_of() -> datetime:
    """The current UTC hour: reruns within the hour (and `--as-of`) reproduce the data set."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def generate(
    sizes: Sizes | None = None,
    *,
    seed: int = DEFAULT_SEED,
    as_of: datetime | None = None,
    append: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> LoadReport:
    """Load the data set; refuses SQLite, and a non-empty database unless `append`."""
    conn = connection
    sizes = sizes or Sizes()
    sizes.check()
    if conn.vendor != "postgresql":
        raise DatasetError(
            "generate_dataset loads with PostgreSQL COPY: point DATABASE_URL at PostgreSQL "
            f"(this database is {conn.vendor})."
        )
    if as_of is None:
        as_of = default_as_of()
    if as_of.tzinfo is None:
        raise DatasetError("as_of must be timezone-aware.")
    as_of = as_of.astimezone(UTC)
    if not append and not database_is_empty():
        raise DatasetError(
            "The database already holds users, organizations, engagements or cases: use a "
            "fresh database, or --append to add the data set next to them."
        )
    if append:
        from portal.tenancy.models import Organization

        if unscoped(Organization, "is a data set loaded?").filter(slug="org-00001").exists():
            raise DatasetError("A data set is loaded here already (org-00001 exists).")
    report = LoadReport(as_of=as_of, seed=seed)
    copier = _Copier(report, log, stamp=as_of)
    generator = _Generator(sizes, seed, as_of, copier, log)
    started = timer.perf_counter()
    conn.ensure_connection()
    generator.run()
    finishing = timer.perf_counter()
    with raw_sql("reset sequences and analyze the loaded tables") as cursor:
        for statement in conn.ops.sequence_reset_sql(no_style(), generator.loaded_models):
            cursor.execute(statement)
        for model in generator.loaded_models:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    elapsed = timer.perf_counter() - finishing
    report.tables.append(("(sequences + ANALYZE)", 0, elapsed))
    log(f"{'(sequences + ANALYZE)':<32} {'':>10}      {elapsed:>8.1f} s")
    report.total_seconds = timer.perf_counter() - started
    return report
