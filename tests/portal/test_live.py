"""The kernel of live pages (portal/live.py): one block of a template rendered as the page
renders it, and the ETag that lets an unchanged fragment answer 204."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from portal.live import fragment_response, render_block

pytestmark = pytest.mark.django_db


def test_a_block_renders_with_the_pages_context_and_processors(world):
    request = RequestFactory().get("/cases/", {"severity": "1"})
    request.user = world.manager
    html = render_block(
        "cases/queue/queue.html",
        "queue_live",
        {"sections": [], "limit": 50},
        request,
    )
    assert "<html" not in html and "<nav" not in html and "Work queue" not in html
    with pytest.raises(ValueError, match="no block 'nowhere'"):
        render_block("cases/queue/queue.html", "nowhere", {}, request)


def test_the_etag_decides_between_the_fragment_and_nothing():
    first = fragment_response(RequestFactory().get("/"), "<p>one</p>")
    assert first.status_code == 200 and first.content == b"<p>one</p>"
    etag = first["ETag"]
    for held in (etag, f'"other", {etag}', f"W/{etag}"):
        same = fragment_response(RequestFactory().get("/", HTTP_IF_NONE_MATCH=held), "<p>one</p>")
        assert same.status_code == 204 and same.content == b"", held
    other = fragment_response(RequestFactory().get("/", HTTP_IF_NONE_MATCH=etag), "<p>two</p>")
    assert other.status_code == 200 and other["ETag"] != etag
    assert "no-store" in other["Cache-Control"]
