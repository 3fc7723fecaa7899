"""The service review report (placeholder until the report module lands)."""

from __future__ import annotations

from datetime import datetime

from reviews.models import Occurrence


def build_report(occurrence: Occurrence, *, as_of: datetime) -> dict:
    """Figures of the review's period, as JSON-ready data."""
    return {"engagement": occurrence.engagement_id, "as_of": as_of.isoformat()}
