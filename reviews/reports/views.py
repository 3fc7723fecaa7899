"""The service review report: a printable page with charts, and the same figures as CSV.

A completed review shows the report frozen when it was completed; any other shows the live
figures. The occurrence is fetched through the request's tenant scope, so another tenant's
review answers 404 exactly like a missing one (and so does an occurrence that is not a review).
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from cases.casework.models import Case
from engagements.catalog.models import Frequency
from engagements.entitlements import FunctionCode
from engagements.selectors import serves
from portal.accounts.models import User
from portal.http import AuthenticatedHttpRequest
from reviews.reports.figures import REPORT_VERSION, build_report, for_audience, report_csv_rows
from reviews.reports.models import ReportSnapshot
from reviews.scheduling.models import Occurrence


def _reviews() -> QuerySet[Occurrence]:
    return Occurrence.objects.filter(deliverable=FunctionCode.SERVICE_REVIEW).select_related(
        "engagement__organization", "engagement__plan", "report_snapshot"
    )


def _report_of(user: User, pk: int) -> tuple[Occurrence, ReportSnapshot | None, dict]:
    """The review (through the request's scope: not yours, missing and "not a review" look
    alike) and its report: the frozen snapshot if there is one, else the live figures; without
    the provider's hours budget and overage flags for a customer."""
    occurrence = get_object_or_404(_reviews(), pk=pk)
    try:
        snapshot: ReportSnapshot | None = occurrence.report_snapshot
    except ReportSnapshot.DoesNotExist:
        snapshot = None
    if snapshot is not None and not _readable(snapshot.data):
        snapshot = None  # frozen by an older portal in another shape: show the live figures
    data = snapshot.data if snapshot else build_report(occurrence, as_of=timezone.now())
    return occurrence, snapshot, for_audience(data, provider=serves(user, occurrence.engagement))


def _readable(data: object) -> bool:
    return isinstance(data, dict) and data.get("version") == REPORT_VERSION


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _kind_label(kind: str) -> str:
    return str(Case.Kind(kind).label) if kind in Case.Kind.values else kind


def _severity_label(severity: int) -> str:
    return str(Case.Severity(severity).label) if severity in Case.Severity.values else str(severity)


def _in_reader_language(names: object, fallback: str) -> str:
    """A catalog name the report kept in every language, in the reader's (an older snapshot
    kept one: `fallback`)."""
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    if isinstance(names, dict) and names.get(language):
        return str(names[language])
    return fallback


def _deliverable_label(row: dict) -> str:
    if row["deliverable"] == "weekly_call":
        return _("Weekly call")
    return _in_reader_language(row.get("names"), row.get("name") or row["deliverable"])


def _period_label(frequency: str, start: date, last_day: date) -> str:
    if last_day < start:  # empty: the first review of a term, held at its start
        return _("start of the term, %(date)s") % {"date": date_format(start, "SHORT_DATE_FORMAT")}
    if frequency == Frequency.MONTHLY and start.day == 1:
        return date_format(start, "YEAR_MONTH_FORMAT")
    return _("%(start)s – %(end)s") % {
        "start": date_format(start, "SHORT_DATE_FORMAT"),
        "end": date_format(last_day, "SHORT_DATE_FORMAT"),
    }


def _trend_label(frequency: str, start: date) -> str:
    if frequency == Frequency.WEEKLY:
        return date_format(start, "MONTH_DAY_FORMAT")
    return date_format(start, "YEAR_MONTH_FORMAT")


def present(data: dict) -> dict[str, Any]:
    """The report's JSON as template context: dates parsed, codes labelled, chart series."""
    meta = dict(data["meta"])
    frequency = meta["period_frequency"]
    meta["period_start"] = _date(meta["period_start"])
    meta["period_last_day"] = _date(meta["period_last_day"])
    meta["as_of"] = _moment(meta["as_of"])
    meta["generated_at"] = _moment(meta["generated_at"])
    meta["period_empty"] = meta["period_last_day"] < meta["period_start"]
    meta["plan"] = _in_reader_language(meta.get("plan_names"), meta["plan"])
    meta["period_title"] = _period_label(frequency, meta["period_start"], meta["period_last_day"])
    activity = data["activity"]
    by_kind = [row | {"label": _kind_label(row["kind"])} for row in activity["by_kind"]]
    by_severity = [
        row | {"label": _severity_label(row["severity"])} for row in activity["by_severity"]
    ]
    trend = [
        row | {"label": _trend_label(frequency, cast(date, _date(row["start"])))}
        for row in data["trend"]
    ]
    open_items = data["open_items"] | {
        "items": [
            item
            | {
                "kind_label": _kind_label(item["kind"]),
                "severity_label": _severity_label(item["severity"]),
                "received_at": _moment(item["received_at"]),
            }
            for item in data["open_items"]["items"]
        ]
    }
    resolutions = data["resolutions"] | {
        "items": [
            item
            | {
                "kind_label": _kind_label(item["kind"]),
                "severity_label": _severity_label(item["severity"]),
                "resolved_on": _date(item["resolved_on"]),
            }
            for item in data["resolutions"]["items"]
        ]
    }
    hours = data["hours"]
    weeks = [week | {"week_start": _date(week["week_start"])} for week in hours["weeks"]]
    deliverables = [row | {"label": _deliverable_label(row)} for row in data["deliverables"]]
    overage_flags = [
        flag | {"raised_at": _moment(flag["raised_at"]), "cleared_at": _moment(flag["cleared_at"])}
        for flag in data["overage_flags"]
    ]
    charts = {
        "trend": {
            "labels": [row["label"] for row in trend],
            "opened": [row["opened"] for row in trend],
            "closed": [row["closed"] for row in trend],
        },
        "hours": {
            "labels": [date_format(week["week_start"], "MONTH_DAY_FORMAT") for week in weeks],
            "hours": [week["hours"] for week in weeks],
            # the provider's budget line; a customer's report has none (for_audience)
            "cap": [hours["cap_hours"] for _week in weeks] if "cap_hours" in hours else [],
        },
        "severity": {
            "labels": [row["label"] for row in by_severity],
            "opened": [row["opened"] for row in by_severity],
            "closed": [row["closed"] for row in by_severity],
        },
        "text": {
            "opened": _("Opened"),
            "closed": _("Resolved"),
            "hours": _("Hours used"),
            "cap": _("Weekly cap"),
        },
    }
    return {
        "meta": meta,
        "activity": activity | {"by_kind": by_kind, "by_severity": by_severity},
        "trend": trend,
        "open_items": open_items,
        "resolutions": resolutions,
        "response": data["response"],
        # absent from reports frozen before ratings existed: the page then shows none
        "satisfaction": data.get("satisfaction"),
        "hours": hours | {"weeks": weeks},
        "deliverables": deliverables,
        "overage_flags": overage_flags,
        "charts": charts,
    }


# A customer's figures: never kept by a shared cache, nor on disk by the browser.
no_store = cache_control(private=True, no_store=True)


@no_store
@login_required
@require_GET
def review_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Whoever may see the engagement: its people, its manager and deputy, admins."""
    occurrence, snapshot, data = _report_of(request.user, pk)
    return render(
        request,
        "reviews/reports/report.html",
        {
            "occurrence": occurrence,
            "engagement": occurrence.engagement,
            "snapshot": snapshot,
            "report": present(data),
        },
    )


@no_store
@login_required
@require_GET
def review_report_csv(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The same figures as (section, key, value) rows, safe to open in a spreadsheet."""
    _occurrence, _snapshot, data = _report_of(request.user, pk)
    meta = data["meta"]
    filename = f"service-review-{meta['engagement_slug']}-{meta['period_start']}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so spreadsheets read UTF-8 (Korean subjects) as UTF-8
    writer = csv.writer(response)
    writer.writerow(["section", "key", "value"])
    writer.writerows(report_csv_rows(data))
    return response
