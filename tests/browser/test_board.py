"""A service manager signs in and lands on the weekly board: this week's calls and reviews and the
items at risk of breaching; then opens a service review's report with its charts, in Debian's
Chromium."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.casework.models import Case
from engagements.time.selectors import week_start
from reviews.scheduling.models import Occurrence
from reviews.scheduling.scheduler import schedule_engagement
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screenshot(page, artifacts_dir, name: str):
    path = artifacts_dir / name
    page.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 0
    return path


def this_week(user, day: int, hour: int) -> datetime:
    zone = zoneinfo.ZoneInfo(user.time_zone)
    monday = week_start(timezone.now().astimezone(zone).date())
    return datetime.combine(monday + timedelta(days=day), time(hour), tzinfo=zone)


def test_manager_lands_on_the_board_and_opens_a_review_report(
    require_chromium, transactional_db, world, live_server, page, artifacts_dir
):
    base = live_server.url
    engagement = world.a.objects["engagement"]
    schedule_engagement(engagement)
    now = timezone.now()
    # This week's sessions, whatever day the test runs on: one done, one still to come or overdue.
    completed = Occurrence.objects.create(
        engagement=engagement,
        deliverable="weekly_call",
        period="test:board-1",
        scheduled_start=this_week(world.manager, 0, 10),
        method="video",
        status=Occurrence.Status.COMPLETED,
        minutes="Reviewed the open items.",
    )
    scheduled = Occurrence.objects.create(
        engagement=engagement,
        deliverable="customer_intelligence",
        period="test:board-2",
        scheduled_start=this_week(world.manager, 3, 14),
        method="video",
    )
    case = Case.objects.create(
        engagement=engagement,
        kind=Case.Kind.INCIDENT,
        severity=Case.Severity.HIGH,
        subject="Checkout latency above 5 s",
        received_at=now - timedelta(hours=7),
        reminder_due_at=now - timedelta(hours=1),
        response_due_at=now + timedelta(hours=2),
        raised_by=world.a.poc,
    )

    sign_in(page, base, world.manager.email, PASSWORD)
    assert urlparse(page.url).path == "/board/"
    expect(page.locator("h1")).to_have_text("Weekly board")
    expect(page.locator(f"#occurrence-{completed.pk}")).to_contain_text("Weekly call")
    expect(page.locator(f"#occurrence-{completed.pk}")).to_contain_text("Completed")
    expect(page.locator(f"#occurrence-{scheduled.pk}")).to_be_visible()
    risk = page.locator(f"#case-{case.pk}")
    expect(risk).to_contain_text("Checkout latency above 5 s")
    expect(risk.locator("a")).to_have_attribute("href", f"/cases/{case.pk}/")
    expect(page.locator("#my-load")).to_contain_text("0 of 30")
    assert world.b.objects["engagement"].name not in page.content()
    screenshot(page, artifacts_dir, "manager-board.png")

    review = (
        Occurrence.objects.filter(engagement=engagement, deliverable="service_review")
        .order_by("scheduled_start")
        .first()
    )
    assert review is not None, "the scheduler puts a monthly service review within 90 days"
    response = page.goto(f"{base}/reviews/{review.pk}/report/")
    assert response is not None and response.ok, response and response.status
    for chart in ("chart-trend", "chart-severity", "chart-hours"):
        expect(page.locator(f"figure.report-chart-ready #{chart}")).to_be_visible()
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('canvas'))"
        ".every(canvas => canvas.width > 0 && canvas.height > 0)"
    )
    screenshot(page, artifacts_dir, "review-report.png")
