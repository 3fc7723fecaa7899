"""In Debian's Chromium: an admin reading in Korean filters the audit trail by who and kind,
and a customer turns off e-mail for one kind of notification; no CSP violation on either."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from engagements.catalog import services as catalog_services
from engagements.catalog.models import Plan
from portal.accounts import services as account_services
from portal.notification_preferences.models import NotificationPreference
from portal.notifications import OutboxEmail, notify
from tests.browser import test_csp as csp
from tests.browser.conftest import enter_totp, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watched_page(require_chromium, browser):
    with csp.watched_page(browser, "ko-KR") as watched:
        yield watched


def test_an_admin_filters_the_audit_in_korean(
    transactional_db, live_server, world, watched_page, artifacts_dir
):
    page, violations = watched_page
    world.admin.language = "ko"
    world.admin.save()
    plan = Plan.objects.get(code="standard")
    catalog_services.plan_save(acting_user=world.admin, plan=plan, max_contacts=5)
    account_services.user_update(acting_user=world.a.poc, user=world.a.poc, time_zone="Asia/Seoul")
    account_services.user_update(acting_user=world.manager, user=world.manager, language="ko")

    sign_in(page, live_server.url, world.admin.email, PASSWORD)
    enter_totp(page, world.admin.totp_secret)
    page.goto(f"{live_server.url}/audit/")
    entries = page.locator("ol.audit-entries")
    assert f"Ada Admin 님이 플랜 {plan.name}의 설정을 변경했습니다" in entries.inner_text()
    assert "최대 지정 연락 담당자" in entries.inner_text() or "3" in entries.inner_text()
    # personal preference changes are left out by default
    assert "자신의 환경 설정을 변경했습니다" not in entries.inner_text()

    page.locator("details.audit-filters summary").click()
    page.get_by_label("변경 유형").select_option("personal")
    page.get_by_label("변경한 사람").select_option(label=world.manager.name)
    with page.expect_navigation():
        page.get_by_role("button", name="적용").click()
    query = parse_qs(urlparse(page.url).query)
    assert query["kind"] == ["personal"] and query["actor"] == [str(world.manager.pk)]
    text = page.locator("ol.audit-entries").inner_text()
    assert f"{world.manager.name} 님이 자신의 환경 설정을 변경했습니다" in text
    assert "Poc A" not in text and plan.name not in text
    # the form shows the filters it applied
    assert page.get_by_label("변경 유형").input_value() == "personal"
    page.screenshot(path=str(artifacts_dir / "audit-filtered-ko.png"), full_page=True)
    assert violations == []


def _words(text: str, language: str) -> str:
    from django.utils import translation

    with translation.override(language):
        return str(translation.gettext(text))


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_customer_turns_off_e_mail_for_one_kind(
    transactional_db, live_server, world, watched_page, artifacts_dir, language
):
    page, violations = watched_page
    world.a.poc.language = language
    world.a.poc.save(update_fields=["language"])
    sign_in(page, live_server.url, world.a.poc.email, PASSWORD)
    page.goto(f"{live_server.url}/")
    page.locator("nav details.dropdown summary").last.click()
    with page.expect_navigation():
        page.get_by_role("link", name=_words("Notification preferences", language)).click()
    row = page.locator("tr#kind-casecomment")
    assert _words("Reply on a case", language) in row.inner_text()
    row.locator("select").select_option("none")
    with page.expect_navigation():
        page.get_by_role("button", name=_words("Save", language), exact=True).click()
    saved = _words("Notification preferences saved.", language)
    assert saved in page.locator(".messages").inner_text()
    assert page.locator("tr#kind-casecomment select").input_value() == "none"
    stored = NotificationPreference.objects.get(user=world.a.poc, kind="case.comment")
    assert (stored.in_app, stored.email, stored.digest) == (True, False, False)

    notify(
        users=[world.a.poc, world.a.member],
        kind="case.comment",
        key="browser:reply",
        render=lambda: ("New reply", "Body"),
    )
    assert list(OutboxEmail.objects.values_list("to", flat=True)) == [world.a.member.email]
    page.screenshot(
        path=str(artifacts_dir / f"notification-preferences-{language}.png"), full_page=True
    )
    assert violations == []
