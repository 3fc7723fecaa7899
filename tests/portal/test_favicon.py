"""Browsers ask for /favicon.ico on every site: it answered 404 in every access log."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_a_static_icon_that_exists():
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/static/") and location.endswith(".ico")
    found = finders.find("portal/favicon.ico")
    assert found is not None
    with open(found, "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # the ICO header


def test_pages_link_the_icon():
    page = Client().get("/accounts/login/").content.decode()
    assert 'rel="icon" href="/static/portal/favicon.svg"' in page
    assert finders.find("portal/favicon.svg") is not None
