"""A double click on the raise-an-item form's button raises one item, in Debian's Chromium:
portal.js sends the form once and disables its button; the form's one-time token would turn a
second request into the first item anyway."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest

from cases.casework import services
from cases.casework.models import Case
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SUBJECT = "Double-clicked by accident"


def test_a_double_click_on_raise_creates_one_item(
    require_chromium, transactional_db, live_server, world, page, monkeypatch
):
    base = live_server.url
    engagement = world.a.objects["engagement"]
    sign_in(page, base, world.a.poc.email, PASSWORD)
    response = page.goto(f"{base}/cases/new/")
    assert response is not None and response.ok
    page.locator("select[name='engagement']").select_option(str(engagement.pk))
    page.locator("select[name='kind']").select_option("inquiry")
    page.locator("input[name='subject']").fill(SUBJECT)
    page.locator("textarea[name='description']").fill("Clicked twice.")
    # The server takes a moment to raise it, as under load: the second click lands while the
    # first submission is still on its way.
    raise_now = services.case_raise

    def slow_raise(**kwargs):
        time.sleep(1.0)
        return raise_now(**kwargs)

    monkeypatch.setattr(services, "case_raise", slow_raise)
    posts: list[str] = []
    page.on(
        "request",
        lambda request: posts.append(request.url) if request.method == "POST" else None,
    )
    # Two clicks 100 ms apart, in the page (a locator's click would wait for the navigation).
    with page.expect_navigation():
        disabled_between = page.evaluate(
            """() => new Promise((resolve) => {
                const button = document.querySelector("form.case-form [type=submit]");
                button.click();
                setTimeout(() => {
                    const disabled = button.disabled;
                    button.click();
                    resolve(disabled);
                }, 100);
            })"""
        )
    page.wait_for_load_state()
    page.wait_for_timeout(1500)  # a second request, had one been sent, has finished by now
    case = Case.objects.get(subject=SUBJECT)  # exactly one
    assert urlparse(page.url).path == f"/cases/{case.pk}/"
    assert disabled_between
    assert len(posts) == 1, posts  # the second click sent nothing
