"""A service manager opens the board, sees an engagement at risk with the reasons, opens its
health page and then the overdue action items across engagements, in English and Korean, in
Debian's Chromium."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.casework.models import Case
from reviews.scheduling.models import ActionItem, Occurrence
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "level": "At risk",
        "severe": "Open severity 0 and 1 items",
        "sessions": "Missed or overdue sessions",
        "overdue": "Overdue action items",
        "health_of": "Health of",
        "days": "days overdue",
    },
    "ko": {
        "level": "위험",
        "severe": "진행 중인 심각도 0·1 케이스",
        "sessions": "누락되거나 기록되지 않은 세션",
        "overdue": "기한이 지난 조치 항목",
        "health_of": "건강도",
        "days": "일 지남",
    },
}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_manager_sees_why_an_engagement_is_at_risk_and_the_overdue_items(
    require_chromium, transactional_db, world, live_server, page, artifacts_dir, language
):
    text = TEXT[language]
    base = live_server.url
    engagement = world.a.objects["engagement"]
    now = timezone.now()
    # Two open severity-0 outages (−25), two missed sessions (−20) with overdue items (−10)
    # and a breached objective (−30): at risk.
    for number in range(2):
        Case.objects.create(
            engagement=engagement,
            kind=Case.Kind.INCIDENT,
            severity=Case.Severity.CRITICAL,
            subject=f"Outage {number}",
            received_at=now - timedelta(days=3),
            reminder_due_at=now - timedelta(days=2, hours=12),
            response_due_at=now - timedelta(days=2),
            raised_by=world.a.poc,
        )
    sessions = [
        Occurrence.objects.create(
            engagement=engagement,
            deliverable="service_review",
            period=f"test:health-{number}",
            scheduled_start=now - timedelta(days=10 + number),
            method="video",
            status=Occurrence.Status.MISSED,
        )
        for number in range(2)
    ]
    today = engagement.local_today()
    ActionItem.objects.create(
        occurrence=sessions[0],
        description="Send the upgrade runbook",
        due_date=today - timedelta(days=6),
    )
    ActionItem.objects.create(
        occurrence=sessions[1],
        description="Share the capacity plan",
        due_date=today - timedelta(days=2),
    )
    world.manager.language = language
    world.manager.save(update_fields=["language"])

    sign_in(page, base, world.manager.email, PASSWORD)
    assert urlparse(page.url).path == "/board/"
    assert page.locator("html").get_attribute("lang") == language
    row = page.locator(f"#engagement-{engagement.pk}")
    health = row.locator(".board-health")
    expect(health).to_contain_text(text["level"])
    expect(health).to_contain_text("−30")  # the costliest reason first, in words
    page.screenshot(path=str(artifacts_dir / f"board-health-{language}.png"), full_page=True)

    with page.expect_navigation():
        health.locator("a.health-link").click()
    assert urlparse(page.url).path == f"/engagements/{engagement.pk}/health/"
    expect(page.locator("h1")).to_contain_text(text["health_of"])
    expect(page.locator("#health-level")).to_have_text(text["level"])
    expect(page.locator("#factor-severe_items")).to_contain_text(text["severe"])
    expect(page.locator("#factor-severe_items")).to_contain_text("−25")
    expect(page.locator("#factor-sessions")).to_contain_text(text["sessions"])
    expect(page.locator("#factor-action_items")).to_contain_text("−10")
    page.screenshot(path=str(artifacts_dir / f"engagement-health-{language}.png"), full_page=True)

    page.goto(f"{base}/board/")
    with page.expect_navigation():
        page.locator(".board-toolbar").get_by_role("button", name=text["overdue"]).click()
    assert urlparse(page.url).path == "/action-items/overdue/"
    expect(page.locator("h1")).to_have_text(text["overdue"])
    rows = page.locator("#overdue-items tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Send the upgrade runbook")  # oldest due first
    expect(rows.first).to_contain_text(text["days"])
    with page.expect_navigation():
        page.locator("#sort-due").click()
    expect(rows.first).to_contain_text("Share the capacity plan")
    page.screenshot(
        path=str(artifacts_dir / f"overdue-action-items-{language}.png"), full_page=True
    )
