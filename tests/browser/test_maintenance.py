"""The manager plans a maintenance window through the page, then the PoC sees it, in Debian's
Chromium.

The PoC sees it on the engagement's maintenance page; once templates/dashboard.html includes
"reviews/maintenance/_maintenance_upcoming.html", on the dashboard too (checked when the include
is there)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reviews.maintenance.models import MaintenanceWindow
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DASHBOARD = Path(__file__).resolve().parents[2] / "templates" / "dashboard.html"


def screenshot(page, artifacts_dir, name: str):
    path = artifacts_dir / name
    page.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 0
    return path


def next_wednesday_evening(user) -> datetime:
    """A Wednesday 20:00 in the manager's zone at least ten days ahead (a holiday would only
    flag the window, not refuse it)."""
    zone = zoneinfo.ZoneInfo(user.time_zone)
    day = timezone.now().astimezone(zone).date() + timedelta(days=10)
    while day.weekday() != 2:
        day += timedelta(days=1)
    return datetime.combine(day, time(20), tzinfo=zone)


def test_manager_plans_maintenance_and_the_poc_sees_it(
    require_chromium, transactional_db, world, live_server, page, artifacts_dir
):
    engagement = world.a.objects["engagement"]
    url = f"{live_server.url}/engagements/{engagement.pk}/maintenance/"
    start = next_wednesday_evening(world.manager)

    sign_in(page, live_server.url, world.manager.email, PASSWORD)
    page.goto(url)
    form = page.locator("form:has(input[name='title'])")
    form.locator("input[name='title']").fill("Database patch night")
    form.locator("input[name='starts_at']").fill(start.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name='ends_at']").fill(
        (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    )
    form.locator("textarea[name='systems_affected']").fill("Database cluster")
    form.locator("textarea[name='expected_impact']").fill("Read-only for an hour")
    with page.expect_navigation():
        form.locator("[type='submit']").click()

    window = MaintenanceWindow.objects.get(title="Database patch night")
    assert window.starts_at == start
    row = page.locator(f"#window-{window.pk}")
    expect(row).to_contain_text("Database patch night")
    expect(row).to_contain_text("Planned")
    screenshot(page, artifacts_dir, "maintenance-planned-by-manager.png")

    page.context.clear_cookies()
    sign_in(page, live_server.url, world.a.poc.email, PASSWORD)
    assert urlparse(page.url).path == "/"
    if "reviews/maintenance/_maintenance_upcoming.html" in DASHBOARD.read_text():
        upcoming = page.locator(f"#maintenance-{window.pk}")
        expect(upcoming).to_contain_text("Database patch night")
        screenshot(page, artifacts_dir, "maintenance-on-poc-dashboard.png")
    page.goto(url)
    row = page.locator(f"#window-{window.pk}")
    expect(row).to_contain_text("Database patch night")
    expect(row).to_contain_text("Database cluster")
    expect(page.locator("form:has(input[name='title'])")).to_have_count(0)
    screenshot(page, artifacts_dir, "maintenance-seen-by-poc.png")
