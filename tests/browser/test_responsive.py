"""Every role's main pages on a 390×844 phone and a 1366×800 desktop, in English and Korean:
nothing sticks out of the viewport on the phone (the navigation collapses behind a menu button,
tables become cards), no Korean word is broken one syllable per line, and axe-core finds no
accessibility violation at either size (issue "Daily use", item 5 and its "Done when").

The main pages of a role are the links of its navigation (read from the page, so a new item is
covered as soon as it is there) plus the pages one opens from them: a case, an engagement, the
raise-an-item form, a review report. One browser context per role and language; each page is
loaded once at desktop size, checked, then resized to the phone and checked again.

axe-core (tests/browser/vendor/, see its README) is injected through the DevTools protocol
(`add_init_script`), which the Content-Security-Policy does not govern: the policy stays as
the portal sends it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases.casework.models import Case
from portal.notifications import Notification
from reviews.scheduling.models import Occurrence
from reviews.scheduling.scheduler import schedule_engagement
from tests.browser.conftest import REPO_ROOT
from tests.conftest import page_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = REPO_ROOT / "tests" / "browser" / "vendor" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}

# What sticks out of the viewport to the right (the only side that makes a page scroll), leaving
# out what a scroll box of its own clips (the catalog grid, visually hidden text): the outermost
# offenders, described so a failure says where to look.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  if (document.documentElement.scrollWidth > width) {
    found.push(`document scrollWidth ${document.documentElement.scrollWidth} > ${width}`);
  }
  const clipped = (element) => {
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const describe = (element) => {
    const id = element.id ? `#${element.id}` : "";
    const classes = element.classList.length ? `.${Array.from(element.classList).join(".")}` : "";
    const text = (element.textContent || "").replace(/\\s+/g, " ").trim().slice(0, 40);
    return `${element.tagName.toLowerCase()}${id}${classes} "${text}"`;
  };
  const offenders = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= width + 1) continue;
    if (clipped(element)) continue;
    if (offenders.some((outer) => outer.contains(element))) continue;
    offenders.push(element);
    found.push(`${describe(element)} right=${Math.round(box.right)} > ${width}`);
  }
  return found;
}"""

# Text squeezed into a column one character wide (Korean one syllable per line, the
# catalog's function names one letter per line): a run of text with three letters or more (two
# Hangul syllables) whose box is narrower than one and a half characters and taller than two lines.
SQUEEZED = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!/\\p{L}{3,}|[\\uac00-\\ud7a3]{2,}/u.test(node.textContent)) continue;
    let hidden = false;  // visually hidden text (a 1 px clipped box) is not laid out to read
    for (let up = node.parentElement; up && !hidden; up = up.parentElement) {
      hidden = up.getBoundingClientRect().width <= 1;
    }
    if (hidden) continue;
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    const size = parseFloat(getComputedStyle(node.parentElement).fontSize);
    if (box.width > 0 && box.width < 1.5 * size && box.height > 2.2 * size) {
      const text = node.textContent.trim().slice(0, 20);
      const where = node.parentElement.tagName.toLowerCase();
      found.push(`${where} "${text}" ${Math.round(box.width)}px wide`);
    }
  }
  return found;
}"""

AXE_RUN = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((violation) => ({
    id: violation.id,
    help: violation.help,
    nodes: violation.nodes.slice(0, 5).map(
      (node) => `${node.target.join(" ")}: ${node.failureSummary}`
    ),
  }));
}"""


def session_context(browser, live_server, user, *, axe: bool = True):
    """A browser context signed in as `user` (the session of a forced login, past the TOTP step
    for an admin): the sign-in pages have their own tests."""
    client = page_client(user)
    locale = "ko-KR" if user.language == "ko" else "en-US"
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    if axe:
        context.add_init_script(path=str(AXE))
    return context


def main_pages(page, base: str, extra: list[str]) -> list[str]:
    """The role's navigation, then the pages opened from it."""
    page.goto(f"{base}/")
    links = page.locator("#site-menu a[href^='/']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    pages = []
    for path in ["/", *links, "/me/preferences/", *extra]:
        if urlparse(path).path not in pages and "/accounts/" not in path and "/mfa/" not in path:
            pages.append(urlparse(path).path)
    return pages


def check_page(page, url: str, language: str) -> list[str]:
    """Problems of one page at both sizes, as readable lines (empty when none)."""
    problems: list[str] = []
    page.set_viewport_size(DESKTOP)
    response = page.goto(url)
    assert response is not None and response.ok, (url, response and response.status)
    expect(page.locator("main h1").first).to_be_visible()
    assert page.locator("html").get_attribute("lang") == language
    for violation in page.evaluate(AXE_RUN):
        problems.append(f"desktop axe {json.dumps(violation, ensure_ascii=False)}")

    page.set_viewport_size(PHONE)
    page.wait_for_function("() => document.documentElement.clientWidth === 390")
    problems += [f"phone overflow {line}" for line in page.evaluate(OVERFLOW)]
    problems += [f"phone squeezed {line}" for line in page.evaluate(SQUEEZED)]
    for violation in page.evaluate(AXE_RUN):
        problems.append(f"phone axe {json.dumps(violation, ensure_ascii=False)}")
    return [f"{urlparse(url).path}: {problem}" for problem in problems]


@pytest.fixture
def sample(world):
    """A case, a session calendar and an unread notification each, so the lists, the board and
    the navigation's badges have something to lay out."""
    engagement = world.a.objects["engagement"]
    schedule_engagement(engagement)
    case = Case.objects.create(
        engagement=engagement,
        kind=Case.Kind.INCIDENT,
        severity=Case.Severity.HIGH,
        subject="Checkout latency above 5 s on the payment gateway",
        description="결제 게이트웨이의 응답 시간이 5초를 넘습니다.",
        received_at=timezone.now() - timedelta(hours=7),
        reminder_due_at=timezone.now() + timedelta(hours=1),
        response_due_at=timezone.now() + timedelta(hours=2),
        raised_by=world.a.poc,
    )
    review = (
        Occurrence.objects.filter(engagement=engagement, deliverable="service_review")
        .order_by("scheduled_start")
        .first()
    )
    assert review is not None
    for user in (world.admin, world.manager, world.a.poc, world.a.member):  # the unread badge
        Notification.objects.create(
            user=user,
            kind="case.raised",
            title=f"New item #{case.pk}: {case.subject}",
            url=f"/cases/{case.pk}/",
            dedupe_key=f"responsive-{user.pk}",
        )
    return {
        "case": f"/cases/{case.pk}/",
        "engagement": f"/engagements/{engagement.pk}/",
        "report": f"/reviews/{review.pk}/report/",
        "organization": f"/organizations/{world.a.organization.pk}/",
        "sso": f"/organizations/{world.a.organization.pk}/sso/",
    }


EXTRA_PAGES = {
    "admin": ["engagement", "organization", "sso", "case"],
    "manager": ["case", "engagement", "report"],
    "poc": ["case", "engagement", "/cases/new/"],
    "member": ["case", "engagement"],
}


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("role", ["admin", "manager", "poc", "member"])
def test_main_pages_fit_a_phone_and_pass_axe(
    require_chromium, browser, live_server, world, sample, role, language
):
    user = world.user(role)
    user.language = language
    user.save(update_fields=["language"])
    base = live_server.url
    context = session_context(browser, live_server, user)
    try:
        page = context.new_page()
        extra = [sample.get(name, name) for name in EXTRA_PAGES[role]]
        pages = main_pages(page, base, extra)
        assert len(pages) >= 6, pages
        problems = []
        for path in pages:
            problems += check_page(page, f"{base}{path}", language)
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_phone_menu_opens_by_keyboard_and_reaches_notifications_and_sign_out(
    require_chromium, browser, live_server, world, language
):
    user = world.a.poc
    user.language = language
    user.save(update_fields=["language"])
    context = session_context(browser, live_server, user)
    try:
        page = context.new_page()
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/cases/")
        menu_name = {"en": "Menu", "ko": "메뉴"}[language]
        notifications = {"en": "Notifications", "ko": "알림"}[language]
        sign_out = {"en": "Sign out", "ko": "로그아웃"}[language]

        button = page.get_by_role("button", name=menu_name)
        expect(button).to_be_visible()
        expect(button).to_have_attribute("aria-expanded", "false")
        expect(button).to_have_attribute("aria-controls", "site-menu")
        expect(page.locator("#site-menu")).to_be_hidden()

        button.focus()
        page.keyboard.press("Enter")
        expect(button).to_have_attribute("aria-expanded", "true")
        menu = page.locator("#site-menu")
        expect(menu).to_be_visible()
        expect(menu.get_by_role("link", name=notifications)).to_be_visible()
        # The current page is marked for screen readers inside the opened menu too.
        expect(menu.locator("a[aria-current='page']")).to_have_attribute("href", "/cases/")

        # Escape closes the menu and gives the focus back to the button.
        menu.get_by_role("link", name=notifications).focus()
        page.keyboard.press("Escape")
        expect(button).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_hidden()
        expect(button).to_be_focused()

        # Open again by tapping, open the account menu in place, sign out.
        button.click()
        menu.locator("details.dropdown > summary").click()
        link = menu.get_by_role("link", name=sign_out)
        expect(link).to_be_in_viewport()
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        link.click()
        expect(page).to_have_url(f"{live_server.url}/accounts/logout/")

        # On a desktop the button is not there and the navigation shows whole.
        page.set_viewport_size(DESKTOP)
        page.goto(f"{live_server.url}/accounts/login/")
        expect(page.get_by_role("button", name=menu_name)).to_have_count(0)
    finally:
        context.close()


def test_wide_screens_show_the_navigation_without_a_menu_button(
    require_chromium, browser, live_server, world
):
    context = session_context(browser, live_server, world.admin)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        expect(page.locator(".nav-toggle")).to_be_hidden()
        expect(page.locator("#site-menu")).to_be_visible()
        expect(page.locator("#site-menu").get_by_role("link", name="Audit log")).to_be_visible()
        assert page.evaluate(OVERFLOW) == []
    finally:
        context.close()


def test_a_table_becomes_cards_with_its_column_labels(
    require_chromium, browser, live_server, world, sample
):
    """The case list on a phone: one card per case, Status, Response (SLA) and Due shown with
    their labels, inside the viewport."""
    context = session_context(browser, live_server, world.manager)
    try:
        page = context.new_page()
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/cases/")
        row = page.locator("table.case-table tbody tr").first
        expect(row).to_contain_text("Checkout latency")
        for label in ("Status", "Response", "Due (your time)"):
            cell = row.locator(f"td[data-label='{label}']")
            cell.scroll_into_view_if_needed()  # below the list's filters and bulk actions
            expect(cell).to_be_in_viewport(ratio=1)
            before = cell.evaluate("cell => getComputedStyle(cell, '::before').content")
            assert before == json.dumps(label), before
        assert row.evaluate("row => getComputedStyle(row).display") == "block"
        expect(page.locator("table.case-table thead")).not_to_be_in_viewport()
    finally:
        context.close()


def every_page(world) -> dict[str, list[str]]:
    """Every page of the URLconf a GET shows (found through the tenant-isolation registry's
    builders of tenant A's objects), by the first role that may open it: admin, manager, PoC."""
    import tests.isolation.test_isolation  # noqa: F401  (registers every route)
    from tests.isolation.harness import REGISTRY, walk_routes

    clients = {role: page_client(world.user(role)) for role in ("admin", "manager", "poc")}
    pages: dict[str, list[str]] = {role: [] for role in clients}
    for name, pattern in walk_routes():
        route = REGISTRY.get(name)
        if route is None or route.is_api or route.method != "get":
            continue
        if name.endswith("_fragment") or name in ("nav_badges", "case_presence_list"):
            continue  # a part of a page that polls it (portal.live), not a page
        if pattern.startswith(("accounts/", "django-admin/", "api/", "i18n/", "static/")):
            continue
        try:
            # Some builders write through services that lock rows, as they would in a request.
            with transaction.atomic():
                url = reverse(name, kwargs=route.kwargs(world, world.a))
        except NoReverseMatch:
            continue
        for role, client in clients.items():
            response = client.get(url)
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                pages[role].append(url)
                break
    return pages


def test_every_page_fits_a_phone(require_chromium, browser, live_server, world, sample):
    """Not only the main pages: each page of the URLconf, at 390 px, in Korean, as the first
    role that may open it (axe runs over the main pages above)."""
    pages = every_page(world)
    assert sum(len(urls) for urls in pages.values()) >= 40, pages
    problems = []
    for role, urls in pages.items():
        user = world.user(role)
        user.language = "ko"
        user.save(update_fields=["language"])
        context = session_context(browser, live_server, user, axe=False)
        try:
            page = context.new_page()
            page.set_viewport_size(PHONE)
            for url in urls:
                response = page.goto(f"{live_server.url}{url}")
                assert response is not None and response.ok, (url, response and response.status)
                found = page.evaluate(OVERFLOW) + page.evaluate(SQUEEZED)
                problems += [f"{url} ({role}): {line}" for line in found]
        finally:
            context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_sign_in_page_fits_a_phone_and_passes_axe(
    require_chromium, browser, live_server, world, language
):
    """Signed out, in the browser's language: the sign-in and password-reset pages."""
    context = browser.new_context(viewport=DESKTOP, locale={"en": "en-US", "ko": "ko-KR"}[language])
    context.add_init_script(path=str(AXE))
    try:
        page = context.new_page()
        problems = []
        for path in ("/accounts/login/", "/accounts/password/reset/"):
            problems += check_page(page, f"{live_server.url}{path}", language)
        assert problems == [], "\n".join(problems)
    finally:
        context.close()
