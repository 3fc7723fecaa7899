"""The service review report: hand-computed figures for a known June 2026 (reported by the
review held on 1 July) and for the periods before a monthly and a quarterly review, the frozen
snapshot, the page, its CSV and the API (tenant-scoped, formula-safe, constant queries)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.casework.models import Case
from engagements.time.models import OverageFlag, TimeEntry
from reviews.reports import figures
from reviews.reports.figures import csv_safe, period_bounds
from reviews.reports.models import ReportSnapshot
from reviews.scheduling.models import Occurrence
from reviews.scheduling.services import occurrence_complete
from tests.conftest import acting_as, page_client, signed_in
from tests.factories import EngagementFactory, MembershipFactory, plan
from tests.portal.test_locale_dates import assert_reads_as_korean


def build_report(occurrence: Occurrence, *, as_of: datetime) -> dict:
    """The report as its engagement's manager builds it, in their scope (as the completing
    service does under a signed-in request), not the system's."""
    engagement = occurrence.engagement
    with acting_as(engagement.manager):
        return figures.build_report(occurrence, as_of=as_of)


BERLIN = ZoneInfo("Europe/Berlin")
LATE_30_JUNE_UTC = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 1 July 01:30 in Berlin


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def make_case(engagement, raised_by, subject, kind, severity, received, due, **fields):
    return Case.objects.create(
        engagement=engagement,
        kind=kind,
        severity=severity,
        subject=subject,
        received_at=received,
        response_due_at=due,
        reminder_due_at=due - timedelta(hours=2),
        raised_by=raised_by,
        **({"status": "new"} | fields),
    )


def make_review(engagement, period="monthly:2026-07-01", start=None, **fields):
    """By default the monthly review held on 1 July 2026: it reports on June."""
    return Occurrence.objects.create(
        engagement=engagement,
        deliverable=fields.pop("deliverable", "service_review"),
        period=period,
        scheduled_start=start or at(7, 1, 10),
        method="video",
        **fields,
    )


@pytest.fixture
def june(db):
    """A Premium engagement in Berlin (no holidays; Mon–Fri 09–17) with a known June 2026,
    reported by the monthly review held on Wed 1 July; June's own review (held 1 June, on
    May) was completed.

    Cases (local times):
      April  service request, sev 3, received Tue 14 Apr 10:00, still open
      May    incident, sev 0, received Wed 20 May 10:00, resolved Fri 5 Jun 10:00 (16.0 days)
      c1     inquiry, sev 2, Mon 1 Jun 09:00, due 2 Jun 09:00, answered 11:00 (2 business h),
             resolved Wed 3 Jun 09:00 (2.0 days)
      c2     inquiry, sev 3, Wed 10 Jun 10:00, due 11 Jun 10:00, answered 14:00 (4 business h)
      c3     incident, sev 1, Tue 30 Jun 11:00, due Wed 1 Jul 11:00, answered 30 Jun 17:00 (6 h)
      c4     service request, sev 2, Thu 25 Jun 10:00, due Fri 26 Jun 10:00, never answered
      July   inquiry, Thu 2 Jul: outside the period
    """
    engagement = EngagementFactory(
        plan=plan("premium"), timezone="Europe/Berlin", holiday_country=""
    )
    poc = MembershipFactory(organization=engagement.organization, role="poc").user
    cases = {
        "april": make_case(
            engagement, poc, "Licence true-up", "service_request", 3,
            at(4, 14, 10), at(4, 15, 10),
            first_response_at=at(4, 14, 15), status="in_progress",
        ),
        "may": make_case(
            engagement, poc, "Outage of the EU cluster", "incident", 0,
            at(5, 20, 10), at(5, 21, 10),
            first_response_at=at(5, 20, 12), status="closed",
            resolved_at=at(6, 5, 10), closed_at=at(6, 5, 12),
        ),
        "c1": make_case(
            engagement, poc, "How do we rotate keys?", "inquiry", 2,
            at(6, 1, 9), at(6, 2, 9),
            first_response_at=at(6, 1, 11), status="resolved", resolved_at=at(6, 3, 9),
        ),
        "c2": make_case(
            engagement, poc, "SSO question", "inquiry", 3,
            at(6, 10, 10), at(6, 11, 10),
            first_response_at=at(6, 10, 14), status="responded",
        ),
        "c3": make_case(
            engagement, poc, "Slow dashboards", "incident", 1,
            at(6, 30, 11), at(7, 1, 11),
            first_response_at=at(6, 30, 17), status="in_progress",
        ),
        "c4": make_case(
            engagement, poc, "New sandbox", "service_request", 2,
            at(6, 25, 10), at(6, 26, 10),
        ),
        "july": make_case(
            engagement, poc, "July question", "inquiry", 2,
            at(7, 2, 10), at(7, 3, 10),
            first_response_at=at(7, 2, 11), status="responded",
        ),
    }  # fmt: skip
    # Weeks of 1, 8, 15, 22 and 29 June overlap the month; 31 May is in the week before.
    for day, minutes in [
        (date(2026, 5, 31), 120),
        (date(2026, 6, 1), 300),
        (date(2026, 6, 3), 300),
        (date(2026, 6, 9), 660),
        (date(2026, 6, 16), 540),
        (date(2026, 7, 2), 60),
    ]:
        TimeEntry.objects.create(
            engagement=engagement,
            manager=engagement.manager,
            date=day,
            minutes=minutes,
            activity="case",
        )
    review = make_review(engagement)
    make_review(
        engagement,
        period="monthly:2026-06-01",
        start=at(6, 1, 10),
        status="completed",
        completed_at=at(6, 1, 11),
    )
    weekly = [
        ("2026-05-25", at(5, 25, 11), "completed"),
        ("2026-06-01", at(6, 1, 11), "completed"),
        ("2026-06-08", at(6, 8, 11), "completed"),
        ("2026-06-15", at(6, 15, 11), "completed"),
        ("2026-06-22", at(6, 22, 11), "missed"),
        ("2026-06-29", at(6, 29, 11), "cancelled"),
    ]
    for period, start, status in weekly:
        make_review(
            engagement,
            period=f"weekly:{period}",
            start=start,
            deliverable="weekly_call",
            status=status,
            completed_at=start + timedelta(minutes=30) if status == "completed" else None,
        )
    OverageFlag.objects.create(
        engagement=engagement,
        raised_at=at(4, 1, 8),
        cleared_at=at(5, 15, 8),
        average_minutes=620,
        cap_minutes=600,
    )
    OverageFlag.objects.create(
        engagement=engagement,
        raised_at=at(6, 22, 8),
        cleared_at=at(7, 6, 8),
        average_minutes=630,
        cap_minutes=600,
    )
    return engagement, poc, review, cases


def assert_june_figures(data: dict, *, cases: dict) -> None:
    meta = data["meta"]
    assert meta["period_frequency"] == "monthly"
    assert (meta["period_start"], meta["period_end"]) == ("2026-06-01", "2026-07-01")
    assert meta["period_label"] == "2026-06-01 – 2026-06-30"
    assert meta["plan"] == "SaaS Premium Service Management"
    assert meta["timezone"] == "Europe/Berlin"

    activity = data["activity"]
    assert (activity["opened"], activity["closed"]) == (4, 2)
    assert activity["by_kind"] == [
        {"kind": "inquiry", "opened": 2, "closed": 1},
        {"kind": "incident", "opened": 1, "closed": 1},
        {"kind": "service_request", "opened": 1, "closed": 0},
    ]
    assert activity["by_severity"] == [
        {"severity": 0, "opened": 0, "closed": 1},
        {"severity": 1, "opened": 1, "closed": 0},
        {"severity": 2, "opened": 2, "closed": 1},
        {"severity": 3, "opened": 1, "closed": 0},
    ]
    assert [(row["start"], row["opened"], row["closed"]) for row in data["trend"]] == [
        ("2025-12-01", 0, 0),
        ("2026-01-01", 0, 0),
        ("2026-02-01", 0, 0),
        ("2026-03-01", 0, 0),
        ("2026-04-01", 1, 0),
        ("2026-05-01", 1, 0),
        ("2026-06-01", 4, 2),
    ]
    # Open at Wed 1 Jul 00:00, oldest first; ages in whole days (77 d 14 h, 20 d 14 h, …).
    open_items = data["open_items"]
    assert open_items["total"] == 4
    assert [(item["id"], item["age_days"]) for item in open_items["items"]] == [
        (cases["april"].pk, 77),
        (cases["c2"].pk, 20),
        (cases["c4"].pk, 5),
        (cases["c3"].pk, 0),
    ]
    assert open_items["items"][0] == {
        "id": cases["april"].pk,
        "subject": "Licence true-up",
        "kind": "service_request",
        "severity": 3,
        "received_at": "2026-04-14T08:00:00+00:00",
        "age_days": 77,
    }
    assert data["resolutions"] == {
        "total": 2,
        "items": [
            {
                "id": cases["c1"].pk,
                "subject": "How do we rotate keys?",
                "kind": "inquiry",
                "severity": 2,
                "resolved_on": "2026-06-03",
                "days_to_resolve": 2.0,
            },
            {
                "id": cases["may"].pk,
                "subject": "Outage of the EU cluster",
                "kind": "incident",
                "severity": 0,
                "resolved_on": "2026-06-05",
                "days_to_resolve": 16.0,
            },
        ],
    }
    # Due in June: c1 and c2 answered in time, c4 never answered → 2 of 3.
    # First answered in June: c1 2 h, c2 4 h, c3 6 h of business time → median 4.
    assert data["response"] == {
        "due": 3,
        "met": 2,
        "missed": 1,
        "attainment_pct": 66.7,
        "answered": 3,
        "median_first_response_hours": 4.0,
    }
    assert data["hours"] == {
        "cap_hours": 10.0,
        "weeks": [
            {"week_start": "2026-06-01", "minutes": 600, "hours": 10.0, "over_cap": False},
            {"week_start": "2026-06-08", "minutes": 660, "hours": 11.0, "over_cap": True},
            {"week_start": "2026-06-15", "minutes": 540, "hours": 9.0, "over_cap": False},
            {"week_start": "2026-06-22", "minutes": 0, "hours": 0.0, "over_cap": False},
            {"week_start": "2026-06-29", "minutes": 60, "hours": 1.0, "over_cap": False},
        ],
    }
    assert data["deliverables"] == [
        {
            "deliverable": "service_review",
            "name": "Service review",
            "names": {"en": "Service review", "ko": "서비스 검토"},
            "scheduled": 1,
            "completed": 1,
            "missed": 0,
        },
        {
            "deliverable": "weekly_call",
            "name": "",
            "names": {},
            "scheduled": 4,
            "completed": 3,
            "missed": 1,
        },
    ]
    assert data["overage_flags"] == [
        {
            "raised_at": "2026-06-22T06:00:00+00:00",
            "cleared_at": "2026-07-06T06:00:00+00:00",
            "average_hours": 10.5,
            "cap_hours": 10.0,
        }
    ]


# --- The period ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("period", "start", "expected"),
    [
        # The cadence period before the one the review is held in: it ends when it takes place.
        ("monthly:2026-07-01", at(7, 1, 10), (date(2026, 6, 1), date(2026, 7, 1))),
        ("monthly:2026-12-04", at(12, 4, 10), (date(2026, 11, 4), date(2026, 12, 4))),
        ("monthly:2026-03-31", at(3, 31, 10), (date(2026, 2, 28), date(2026, 3, 31))),
        # Moved off a holiday: still ends on the day the cadence placed it.
        ("monthly:2026-05-01", at(5, 4, 10), (date(2026, 4, 1), date(2026, 5, 1))),
        ("weekly:2026-06-15", at(6, 15, 10), (date(2026, 6, 8), date(2026, 6, 15))),
        ("quarterly:2026-05-01", at(5, 4, 10), (date(2026, 2, 1), date(2026, 5, 1))),
        # Not before the term (from 1 Jan 2026): the second review, then the first (empty).
        ("monthly:2026-01-31", at(2, 2, 10), (date(2026, 1, 1), date(2026, 1, 31))),
        ("monthly:2026-01-01", at(1, 2, 10), (date(2026, 1, 1), date(2026, 1, 1))),
        # As needed: the month up to the local day of its start (1 Jul 01:30 in Berlin).
        ("as_needed:abc123", LATE_30_JUNE_UTC, (date(2026, 6, 1), date(2026, 7, 1))),
        ("monthly:not-a-date", at(3, 9, 10), (date(2026, 2, 9), date(2026, 3, 9))),
    ],
)  # fmt: skip
def test_period_bounds(period, start, expected):
    engagement = EngagementFactory(
        timezone="Europe/Berlin", holiday_country="", start_date=date(2026, 1, 1)
    )
    assert period_bounds(make_review(engagement, period=period, start=start)) == expected


@pytest.fixture
def autumn(db):
    """An engagement whose term started Tue 4 Mar 2025, so its reviews fall on the 4th; Berlin,
    no holidays, Mon–Fri 09–17. The monthly review held Thu 4 Dec 2025 reports 4 Nov – 3 Dec,
    the quarterly one held that day 4 Sep – 3 Dec (the figures do not depend on the plan).

    Cases (local times), with business hours to the first answer:
      pre  service request, sev 3, Wed 3 Sep 10:00, due Thu 4 Sep 10:00, answered 3 Sep 11:00,
           resolved Thu 4 Sep 12:00
      s1   incident, sev 0, Wed 1 Oct 10:00, due Thu 2 Oct 10:00, answered 12:00 (2 h),
           resolved Mon 6 Oct 10:00
      n0   inquiry, sev 3, Mon 3 Nov 15:00, due Tue 4 Nov 15:00, answered 4 Nov 10:00 (3 h)
      c1   incident, sev 1, escalated, Mon 10 Nov 09:00, due Tue 11 Nov 09:00, answered 10:00 (1 h)
      c2   inquiry, sev 2, Tue 18 Nov 10:00, due Wed 19 Nov 10:00, answered 14:00 (4 h),
           resolved Thu 20 Nov 10:00
      c3   service request, sev 3, Mon 1 Dec 11:00, due Tue 2 Dec 11:00, never answered
      c4   inquiry, sev 2, Wed 3 Dec 16:00, due Thu 4 Dec 16:00, answered 4 Dec 09:30
      d4   incident, sev 2, Thu 4 Dec 08:00 (the review's day: the next period), answered 11:00
    """
    engagement = EngagementFactory(
        plan=plan("premium"),
        timezone="Europe/Berlin",
        holiday_country="",
        start_date=date(2025, 3, 4),
        end_date=date(2027, 3, 3),
    )
    poc = MembershipFactory(organization=engagement.organization, role="poc").user

    def on(month: int, day: int, hour: int, minute: int = 0) -> datetime:
        return at(month, day, hour, minute, year=2025)

    cases = {
        "pre": make_case(
            engagement, poc, "Licence audit", "service_request", 3,
            on(9, 3, 10), on(9, 4, 10), first_response_at=on(9, 3, 11),
            status="resolved", resolved_at=on(9, 4, 12),
        ),
        "s1": make_case(
            engagement, poc, "Cluster down", "incident", 0,
            on(10, 1, 10), on(10, 2, 10), first_response_at=on(10, 1, 12),
            status="resolved", resolved_at=on(10, 6, 10),
        ),
        "n0": make_case(
            engagement, poc, "Backup question", "inquiry", 3,
            on(11, 3, 15), on(11, 4, 15), first_response_at=on(11, 4, 10), status="responded",
        ),
        "c1": make_case(
            engagement, poc, "Payments fail", "incident", 1,
            on(11, 10, 9), on(11, 11, 9), first_response_at=on(11, 10, 10),
            status="in_progress", escalated_at=on(11, 10, 12),
        ),
        "c2": make_case(
            engagement, poc, "Quota question", "inquiry", 2,
            on(11, 18, 10), on(11, 19, 10), first_response_at=on(11, 18, 14),
            status="resolved", resolved_at=on(11, 20, 10),
        ),
        "c3": make_case(
            engagement, poc, "New test tenant", "service_request", 3,
            on(12, 1, 11), on(12, 2, 11),
        ),
        "c4": make_case(
            engagement, poc, "Export format", "inquiry", 2,
            on(12, 3, 16), on(12, 4, 16), first_response_at=on(12, 4, 9, 30), status="responded",
        ),
        "d4": make_case(
            engagement, poc, "Morning alert", "incident", 2,
            on(12, 4, 8), on(12, 5, 8), first_response_at=on(12, 4, 11), status="responded",
        ),
    }  # fmt: skip
    monthly = make_review(engagement, period="monthly:2025-12-04", start=on(12, 4, 10))
    quarterly = make_review(engagement, period="quarterly:2025-12-04", start=on(12, 4, 14))
    return engagement, poc, monthly, quarterly, cases


def assert_november_figures(data: dict, cases: dict) -> None:
    """The monthly review of 4 Dec 2025: 4 Nov – 3 Dec."""
    meta = data["meta"]
    assert meta["period_frequency"] == "monthly"
    assert (meta["period_start"], meta["period_end"]) == ("2025-11-04", "2025-12-04")
    assert meta["period_label"] == "2025-11-04 – 2025-12-03"
    activity = data["activity"]
    # Received in the period: c1, c2, c3, c4 (n0 came the day before it, d4 on the review's day).
    assert (activity["opened"], activity["closed"]) == (4, 1)
    assert activity["by_kind"] == [
        {"kind": "inquiry", "opened": 2, "closed": 1},
        {"kind": "incident", "opened": 1, "closed": 0},
        {"kind": "service_request", "opened": 1, "closed": 0},
    ]
    assert activity["by_severity"] == [
        {"severity": 0, "opened": 0, "closed": 0},
        {"severity": 1, "opened": 1, "closed": 0},
        {"severity": 2, "opened": 2, "closed": 1},
        {"severity": 3, "opened": 1, "closed": 0},
    ]
    assert [(row["start"], row["opened"], row["closed"]) for row in data["trend"]] == [
        ("2025-05-04", 0, 0),
        ("2025-06-04", 0, 0),
        ("2025-07-04", 0, 0),
        ("2025-08-04", 1, 0),  # pre
        ("2025-09-04", 1, 1),  # s1 opened, pre resolved
        ("2025-10-04", 1, 1),  # n0 opened, s1 resolved
        ("2025-11-04", 4, 1),
    ]
    # Open at Thu 4 Dec 00:00.
    assert data["open_items"]["at"] == "2025-12-03T23:00:00+00:00"
    assert [item["id"] for item in data["open_items"]["items"]] == [
        cases[key].pk for key in ("n0", "c1", "c3", "c4")
    ]
    assert [(item["id"], item["resolved_on"], item["days_to_resolve"])
            for item in data["resolutions"]["items"]] == [
        (cases["c2"].pk, "2025-11-20", 2.0)
    ]  # fmt: skip
    # Due in the period: n0, c1, c2 answered in time, c3 never (c4 is due on the review's day).
    # First answered in the period: c1 1 h, n0 3 h, c2 4 h → median 3.
    assert data["response"] == {
        "due": 4,
        "met": 3,
        "missed": 1,
        "attainment_pct": 75.0,
        "answered": 3,
        "median_first_response_hours": 3.0,
    }
    assert [week["week_start"] for week in data["hours"]["weeks"]] == [
        "2025-11-03",
        "2025-11-10",
        "2025-11-17",
        "2025-11-24",
        "2025-12-01",
    ]
    assert data["deliverables"] == []  # both reviews are held on 4 Dec, after the period


@pytest.mark.django_db
def test_a_monthly_review_reports_the_month_that_ends_when_it_takes_place(autumn):
    _engagement, _poc, monthly, _quarterly, cases = autumn
    assert_november_figures(build_report(monthly, as_of=at(12, 4, 12, year=2025)), cases)


@pytest.mark.django_db
def test_a_quarterly_review_reports_the_quarter_that_ends_when_it_takes_place(autumn):
    _engagement, _poc, _monthly, quarterly, cases = autumn
    data = build_report(quarterly, as_of=at(12, 4, 16, year=2025))
    meta = data["meta"]
    assert meta["period_frequency"] == "quarterly"
    assert (meta["period_start"], meta["period_end"]) == ("2025-09-04", "2025-12-04")
    # Received 4 Sep – 3 Dec: s1, n0, c1, c2, c3, c4; resolved: pre (4 Sep), s1, c2.
    assert (data["activity"]["opened"], data["activity"]["closed"]) == (6, 3)
    assert [(row["start"], row["opened"], row["closed"]) for row in data["trend"][-2:]] == [
        ("2025-06-04", 1, 0),
        ("2025-09-04", 6, 3),
    ]
    assert [(item["id"], item["resolved_on"], item["days_to_resolve"])
            for item in data["resolutions"]["items"]] == [
        (cases["pre"].pk, "2025-09-04", 1.1),  # 26 hours
        (cases["s1"].pk, "2025-10-06", 5.0),
        (cases["c2"].pk, "2025-11-20", 2.0),
    ]  # fmt: skip
    assert data["open_items"]["total"] == 4
    # Due: pre, s1, n0, c1, c2 in time, c3 never; answered in the quarter: c1 1 h, s1 2 h,
    # n0 3 h, c2 4 h → median 2.5 (pre was answered on 3 Sep, before it).
    assert data["response"] == {
        "due": 6,
        "met": 5,
        "missed": 1,
        "attainment_pct": 83.3,
        "answered": 4,
        "median_first_response_hours": 2.5,
    }


@pytest.mark.django_db
def test_the_frozen_report_the_csv_and_the_api_report_the_period_before_the_review(autumn):
    engagement, poc, monthly, _quarterly, cases = autumn
    occurrence_complete(
        acting_user=engagement.manager,
        occurrence=monthly,
        method="video",
        minutes="November: four new items, the escalated payments incident.",
    )
    snapshot = ReportSnapshot.objects.get(occurrence=monthly)
    assert_november_figures(snapshot.data, cases)

    rows = csv_rows(page_client(poc).get(reverse("review_report_csv", args=[monthly.pk])))
    assert ["meta", "period_start", "2025-11-04"] in rows
    assert ["activity", "opened", "4"] in rows
    assert ["activity", "closed", "1"] in rows

    page = page_client(poc).get(reverse("review_report", args=[monthly.pk]))
    assert page.status_code == 200
    assert "4 Nov 2025 – 3 Dec 2025" in page.content.decode()

    body = signed_in(poc).get(f"/api/v1/reviews/{monthly.pk}/report/").json()
    assert body["frozen"] is True
    assert_november_figures(body["data"], cases)


@pytest.mark.django_db
def test_the_report_reads_its_dates_in_korean(autumn):
    engagement, poc, monthly, _quarterly, _cases = autumn
    occurrence_complete(
        acting_user=engagement.manager, occurrence=monthly, method="video", minutes="Done."
    )
    poc.language = "ko"
    poc.save()
    page = page_client(poc).get(reverse("review_report", args=[monthly.pk]))
    body = page.content.decode()
    assert "2025년 11월 4일 – 2025년 12월 3일" in body
    assert_reads_as_korean(body)


@pytest.mark.django_db
def test_the_first_review_of_a_term_reports_an_empty_period(db):
    engagement = EngagementFactory(
        timezone="Europe/Berlin", holiday_country="", start_date=date(2026, 1, 1)
    )
    review = make_review(engagement, period="monthly:2026-01-01", start=at(1, 2, 10))
    data = build_report(review, as_of=at(1, 2, 12))
    assert (data["meta"]["period_start"], data["meta"]["period_end"]) == (
        "2026-01-01",
        "2026-01-01",
    )
    assert data["meta"]["period_label"] == "2026-01-01"
    assert (data["activity"]["opened"], data["activity"]["closed"]) == (0, 0)
    assert data["hours"]["weeks"] == []
    # The trend rows before it are the whole months before the term.
    assert [row["start"] for row in data["trend"]][-2:] == ["2025-11-01", "2026-01-01"]
    page = page_client(engagement.manager).get(reverse("review_report", args=[review.pk]))
    assert page.status_code == 200
    assert "None yet: the review is held at the start of the term" in page.content.decode()


# --- The figures -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_figures_of_a_known_june(june):
    engagement, _poc, review, cases = june
    data = build_report(review, as_of=timezone.now())
    json.dumps(data)  # JSON-ready as it is
    assert_june_figures(data, cases=cases)
    assert data["meta"]["engagement"] == engagement.name
    assert data["meta"]["organization"] == engagement.organization.name


@pytest.mark.django_db
def test_figures_are_as_known_at_as_of(june):
    """Mid-June: later cases, answers and resolutions are not known yet."""
    _engagement, _poc, review, cases = june
    data = build_report(review, as_of=at(6, 10, 12))
    assert (data["activity"]["opened"], data["activity"]["closed"]) == (2, 2)
    # c2 (received 10:00) is not answered by 12:00; nothing of it is due yet.
    assert data["response"] == {
        "due": 1,
        "met": 1,
        "missed": 0,
        "attainment_pct": 100.0,
        "answered": 1,
        "median_first_response_hours": 2.0,
    }
    assert data["open_items"]["at"] == "2026-06-10T10:00:00+00:00"
    assert [item["id"] for item in data["open_items"]["items"]] == [
        cases["april"].pk,
        cases["c2"].pk,
    ]
    completed = {row["deliverable"]: row["completed"] for row in data["deliverables"]}
    assert completed == {"service_review": 1, "weekly_call": 2}


@pytest.mark.django_db
def test_no_items_due_or_answered_gives_null_figures(db):
    engagement = EngagementFactory(timezone="Europe/Berlin", holiday_country="")
    data = build_report(make_review(engagement), as_of=timezone.now())
    assert data["response"]["attainment_pct"] is None
    assert data["response"]["median_first_response_hours"] is None
    assert data["open_items"] == {"at": "2026-06-30T22:00:00+00:00", "total": 0, "items": []}
    assert [week["hours"] for week in data["hours"]["weeks"]] == [0.0] * 5


# --- Completing the review freezes the report ---------------------------------------------------


@pytest.mark.django_db
def test_completing_the_review_freezes_the_report(june):
    engagement, poc, review, cases = june
    occurrence_complete(
        acting_user=engagement.manager,
        occurrence=review,
        method="video",
        minutes="Went through June: one late answer, hours over the cap in week 24.",
    )
    review.refresh_from_db()
    snapshot = ReportSnapshot.objects.get(occurrence=review)
    assert snapshot.data["meta"]["as_of"] == review.completed_at.isoformat()
    assert_june_figures(snapshot.data, cases=cases)

    # The data moves on: another June inquiry, logged after the review.
    make_case(engagement, poc, "Late addition", "inquiry", 2, at(6, 12, 10), at(6, 15, 10))
    assert build_report(review, as_of=timezone.now())["activity"]["opened"] == 5
    snapshot.refresh_from_db()
    assert_june_figures(snapshot.data, cases=cases)

    response = page_client(poc).get(reverse("review_report", args=[review.pk]))
    assert response.status_code == 200
    assert response.context["snapshot"] == snapshot
    assert response.context["report"]["activity"]["opened"] == 4
    body = response.content.decode()
    assert "Delivered report, frozen on" in body
    assert "Preview" not in body
    assert "Late addition" not in body

    rows = csv_rows(page_client(poc).get(reverse("review_report_csv", args=[review.pk])))
    assert ["activity", "opened", "4"] in rows


# --- The page and the CSV --------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["poc", "member", "manager"])
def test_page_renders_a_live_preview(world, role):
    review = make_review(world.a.objects["engagement"])
    response = page_client(world.user(role)).get(reverse("review_report", args=[review.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Preview — figures change until the review is completed." in body
    assert "vendor/chartjs/chart.umd.min.js" in body
    assert 'id="report-charts"' in body
    assert reverse("review_report_csv", args=[review.pk]) in body
    assert response.context["snapshot"] is None


@pytest.mark.django_db
def test_a_snapshot_in_an_unknown_shape_falls_back_to_live_figures(world):
    review = make_review(world.a.objects["engagement"])
    ReportSnapshot.objects.create(occurrence=review, data={"engagement": 1, "as_of": "2026-07-01"})
    client = page_client(world.a.poc)
    response = client.get(reverse("review_report", args=[review.pk]))
    assert response.status_code == 200
    assert response.context["snapshot"] is None
    assert "Preview" in response.content.decode()
    assert client.get(reverse("review_report_csv", args=[review.pk])).status_code == 200


@pytest.mark.django_db
def test_another_tenants_review_is_not_found(world):
    foreign = make_review(world.b.objects["engagement"])
    for user in (world.a.poc, world.a.member, world.manager):
        client = page_client(user)
        assert client.get(reverse("review_report", args=[foreign.pk])).status_code == 404
        assert client.get(reverse("review_report_csv", args=[foreign.pk])).status_code == 404


@pytest.mark.django_db
def test_only_service_reviews_have_a_report(world):
    call = make_review(
        world.a.objects["engagement"], period="weekly:2026-06-01", deliverable="weekly_call"
    )
    client = page_client(world.a.poc)
    assert client.get(reverse("review_report", args=[call.pk])).status_code == 404
    assert client.get(reverse("review_report_csv", args=[call.pk])).status_code == 404


@pytest.mark.django_db
def test_csv_download_is_an_attachment_safe_against_formulas(world):
    engagement = world.a.objects["engagement"]
    review = make_review(engagement)
    case = make_case(
        engagement,
        world.a.poc,
        '=HYPERLINK("https://evil.example","Click")',
        "inquiry",
        2,
        at(6, 2, 10),
        at(6, 3, 10),
    )
    response = page_client(world.a.poc).get(reverse("review_report_csv", args=[review.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="service-review-engagement-a-2026-06-01.csv"'
    )
    rows = csv_rows(response)
    assert rows[0] == ["section", "key", "value"]
    assert [
        f"open_item:{case.pk}",
        "subject",
        '\'=HYPERLINK("https://evil.example","Click")',
    ] in rows
    assert [f"open_item:{case.pk}", "age_days", str((at(7, 1) - at(6, 2, 10)).days)] in rows
    assert ["meta", "period_start", "2026-06-01"] in rows
    assert ["activity", "opened", "1"] in rows
    assert ["opened_by_kind", "inquiry", "1"] in rows
    assert ["response", "attainment_pct", "0.0"] in rows  # due 3 Jun, never answered
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Plain subject", "Plain subject"),
        ("a=b", "a=b"),
        (42, "42"),
        (None, ""),
        ("", ""),
    ],
)
def test_csv_safe(value, expected):
    assert csv_safe(value) == expected


@pytest.mark.django_db
def test_csv_escapes_formulas_in_every_cell(world):
    """Not only subjects: an organization's name is customer-controlled text too."""
    engagement = world.a.objects["engagement"]
    engagement.organization.name = '=HYPERLINK("https://evil.example")'
    engagement.organization.save()
    review = make_review(engagement)
    rows = csv_rows(page_client(world.a.poc).get(reverse("review_report_csv", args=[review.pk])))
    assert ["meta", "organization", '\'=HYPERLINK("https://evil.example")'] in rows


# --- Query budgets -----------------------------------------------------------------------------


def add_activity(engagement, raised_by, count: int, offset: int = 0) -> None:
    for index in range(offset, offset + count):
        day = 1 + index % 28
        make_case(
            engagement,
            raised_by,
            f"Item {index}",
            ["inquiry", "incident", "service_request"][index % 3],
            index % 4,
            at(6, day, 10),
            at(6, day, 18),
            first_response_at=at(6, day, 12) if index % 2 else None,
            status="resolved" if index % 5 == 0 else "new",
            resolved_at=at(6, day, 16) if index % 5 == 0 else None,
        )
        TimeEntry.objects.create(
            engagement=engagement,
            manager=engagement.manager,
            date=date(2026, 6, day),
            minutes=30,
            activity="case",
        )


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["review_report", "review_report_csv"])
@pytest.mark.parametrize("role", ["poc", "manager"])
def test_constant_queries(world, route, role):
    engagement = world.a.objects["engagement"]
    review = make_review(engagement)
    add_activity(engagement, world.a.poc, 3)
    client = page_client(world.user(role))
    url = reverse(route, args=[review.pk])
    assert client.get(url).status_code == 200  # warm up: sessions, caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add_activity(engagement, world.a.poc, 27, offset=3)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert len(many) == len(few), [query["sql"] for query in many.captured_queries]
    if route == "review_report":
        assert response.context["report"]["activity"]["opened"] == 30


# --- Customer satisfaction --------------------------------------------------------------------


def rate_directly(case, score: int, rated_at: datetime):
    """A rating arranged directly (the service and its rules: tests/cases/test_satisfaction.py)."""
    from cases.satisfaction.models import CaseRating

    return CaseRating.objects.create(
        case=case, score=score, rated_by=case.raised_by, rated_at=rated_at, updated_at=rated_at
    )


@pytest.mark.django_db
def test_satisfaction_averages_the_ratings_of_the_periods_resolutions(june):
    """June's resolutions are "may" (resolved 5 Jun) and c1 (3 Jun): rated 2 and 5, so 3.5 on
    average over 2 ratings. A rating of an item resolved in July, and of an item still open, do
    not count."""
    engagement, poc, review, cases = june
    rate_directly(cases["may"], 2, at(6, 6, 9))
    rate_directly(cases["c1"], 5, at(6, 4, 9))
    rate_directly(cases["c2"], 1, at(6, 11, 9))  # never resolved (arranged directly)
    july = make_case(
        engagement, poc, "Resolved in July", "inquiry", 2, at(6, 29, 10), at(6, 30, 10),
        first_response_at=at(6, 29, 11), status="resolved", resolved_at=at(7, 2, 10),
    )  # fmt: skip
    rate_directly(july, 1, at(7, 2, 12))

    data = build_report(review, as_of=timezone.now())
    assert data["satisfaction"] == {
        "resolved": 2,
        "rated": 2,
        "average": 3.5,
        "by_score": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    }

    # As known on 5 June 12:00: "may" is not resolved yet, c1's rating (4 June) is known.
    early = build_report(review, as_of=at(6, 5, 8))
    assert early["satisfaction"]["resolved"] == 1
    assert (early["satisfaction"]["rated"], early["satisfaction"]["average"]) == (1, 5.0)
    # On 4 June 08:00 c1 is resolved but not rated yet.
    earlier = build_report(review, as_of=at(6, 4, 8))
    assert earlier["satisfaction"]["resolved"] == 1
    assert (earlier["satisfaction"]["rated"], earlier["satisfaction"]["average"]) == (0, None)

    body = page_client(poc).get(reverse("review_report", args=[review.pk])).content.decode()
    assert "Customer satisfaction" in body
    assert "2 of the 2 items resolved in the period were rated, 3.5 out of 5 on average." in body
    rows = csv_rows(page_client(poc).get(reverse("review_report_csv", args=[review.pk])))
    assert ["satisfaction", "rated", "2"] in rows
    assert ["satisfaction", "average", "3.5"] in rows
    assert ["satisfaction_score", "5", "1"] in rows


@pytest.mark.django_db
def test_a_report_frozen_before_ratings_shows_no_satisfaction(june):
    _engagement, poc, review, _cases = june
    data = build_report(review, as_of=timezone.now())
    del data["satisfaction"]
    ReportSnapshot.objects.create(occurrence=review, data=data)
    response = page_client(poc).get(reverse("review_report", args=[review.pk]))
    assert response.status_code == 200
    assert "satisfaction-title" not in response.content.decode()
    rows = csv_rows(page_client(poc).get(reverse("review_report_csv", args=[review.pk])))
    assert not [row for row in rows if row[0].startswith("satisfaction")]
