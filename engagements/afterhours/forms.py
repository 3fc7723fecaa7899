"""After-hours support requests: forms."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.contracts.forms import DATE_INPUT, TIME_INPUT
from engagements.contracts.models import Engagement
from portal.forms import PortalForm


class AfterHoursRequestForm(PortalForm):
    """A window on one local date of the engagement's zone; an end at or before the start is
    on the next day (22:00–02:00)."""

    day = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    starts = forms.TimeField(label=_("From"), widget=TIME_INPUT)
    ends = forms.TimeField(
        label=_("Until"),
        widget=TIME_INPUT,
        help_text=_("An end at or before the start is on the next day."),
    )
    reason = forms.CharField(
        label=_("What is the coverage for?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, engagement: Engagement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engagement = engagement
        zone = engagement.zone.key
        self.fields["day"].help_text = _("Local date in %(zone)s.") % {"zone": zone}
        self.fields["starts"].help_text = _("Local time in %(zone)s.") % {"zone": zone}

    def window(self) -> tuple[datetime, datetime]:
        """The requested window as aware datetimes in the engagement's zone."""
        zone = self.engagement.zone
        day: date = self.cleaned_data["day"]
        starts: time = self.cleaned_data["starts"]
        ends: time = self.cleaned_data["ends"]
        starts_at = datetime.combine(day, starts, tzinfo=zone)
        end_day = day + timedelta(days=1) if ends <= starts else day
        return starts_at, datetime.combine(end_day, ends, tzinfo=zone)


class AfterHoursDecideForm(PortalForm):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("decline", _("Decline"))]
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        help_text=_("Required when declining."),
    )
