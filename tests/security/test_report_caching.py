"""Reports and CSV exports are never cached (audit, issue 11 §2.4): `Cache-Control: private,
no-store` on every report page, report API and CSV export, so neither a shared proxy nor the
browser's disk keeps a customer's figures.

The URLconf is walked for report- and export-like routes and the source for CSV writers, so a
new export that is not listed (and checked) here fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from reviews.scheduling.models import Occurrence
from tests.conftest import page_client, signed_in

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
APPS = ("portal", "engagements", "cases", "reviews")
REPORT_LIKE = re.compile(r"report|csv|export", re.IGNORECASE)
# Every report-like route, by name: how to reach it for a review occurrence's primary key.
ROUTES = {
    "review_report": lambda pk: reverse("review_report", args=[pk]),
    "review_report_csv": lambda pk: reverse("review_report_csv", args=[pk]),
    "review-report": lambda pk: f"/api/v1/reviews/{pk}/report/",
}
# Modules that write CSV, and the routes that serve it.
CSV_MODULES = {"reviews/reports/views.py": {"review_report_csv"}}


def walk(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name, entry.callback


def report_like_routes() -> dict[str, str]:
    return {
        name: route
        for route, name, _callback in walk(get_resolver().url_patterns)
        if REPORT_LIKE.search(route) or (name and REPORT_LIKE.search(name))
    }


def test_every_report_and_export_route_is_listed():
    assert set(report_like_routes()) == set(ROUTES), "list (and so check) the new route here"


def test_every_csv_writer_is_listed():
    writers = {
        str(path.relative_to(REPO_ROOT))
        for app in APPS
        for path in (REPO_ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and "text/csv" in path.read_text()
    }
    assert writers == set(CSV_MODULES), "list the new CSV export's routes in CSV_MODULES"
    for routes in CSV_MODULES.values():
        assert routes <= set(ROUTES)


def directives(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.mark.parametrize("name", sorted(ROUTES))
@pytest.mark.parametrize("role", ["poc", "manager", "admin"])
def test_reports_and_exports_are_private_and_not_stored(world, name, role):
    review = Occurrence.objects.create(
        engagement=world.a.objects["engagement"],
        deliverable="service_review",
        period="test:cache",
        scheduled_start=timezone.now(),
        method="video",
    )
    user = world.user(role)
    client = signed_in(user) if name == "review-report" else page_client(user)
    response = client.get(ROUTES[name](review.pk))
    assert response.status_code == 200, response.content[:300]
    got = directives(response)
    assert {"private", "no-store"} <= got, response.get("Cache-Control")
    assert "public" not in got
