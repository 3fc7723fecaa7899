"""The sign-in page neither mentions nor links to a sign-up: accounts are provisioned by an
administrator (PortalAccountAdapter.is_open_for_signup is False), so allauth's "please sign up
first" pointed at a "Sign Up Closed" page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "says"),
    [("en", "your organization's administrator"), ("ko", "소속 조직의 관리자")],
)
def test_sign_in_page_has_no_sign_up_and_names_who_provisions(language, says):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("account_signup") not in page
    assert "sign up" not in page.lower() and "sign-up" not in page.lower()
    assert "가입" not in page
    assert says in page.replace("&#x27;", "'")
