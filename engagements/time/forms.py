"""Time entries and the weekly hours budget: forms."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.contracts.forms import DATE_INPUT
from engagements.contracts.models import Engagement
from engagements.time.models import TimeEntry
from portal.accounts.models import User
from portal.forms import PortalForm

_DURATION = re.compile(r"^\s*(?:(\d{1,2})\s*[:h]\s*(\d{1,2})\s*m?|(\d{1,4})\s*(?:m|min)?)\s*$")


def parse_duration(value: str) -> int | None:
    """ "90", "90m", "1:30" or "1h30" → minutes; None when it is none of these."""
    match = _DURATION.match(value or "")
    if match is None:
        return None
    hours, minutes, plain = match.groups()
    if plain is not None:
        return int(plain)
    if int(minutes) >= 60:
        return None
    return int(hours) * 60 + int(minutes)


class TimeEntryForm(PortalForm):
    date = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    duration = forms.CharField(
        label=_("Time spent"),
        max_length=10,
        help_text=_("Minutes (90) or hours:minutes (1:30)."),
    )
    activity = forms.ChoiceField(label=_("Activity"), choices=TimeEntry.Activity.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    manager = forms.ChoiceField(label=_("Logged for"), required=False)

    def __init__(
        self, *args: Any, engagement: Engagement, acting_user: User, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {"date": engagement.local_today()})
        super().__init__(*args, **kwargs)
        self.fields["date"].help_text = _("Local date in %(zone)s.") % {"zone": engagement.zone.key}
        if acting_user.is_provider_admin:
            people = {
                person
                for person in (engagement.manager, engagement.deputy, acting_user)
                if person is not None
            }
            self.staff = {str(person.pk): person for person in people}
            cast(forms.ChoiceField, self.fields["manager"]).choices = [
                (str(person.pk), str(person))
                for person in sorted(people, key=lambda person: str(person))
            ]
            self.fields["manager"].initial = str(engagement.manager_id)
        else:
            self.staff = {}
            del self.fields["manager"]

    def clean_duration(self) -> int:
        minutes = parse_duration(self.cleaned_data["duration"])
        if minutes is None:
            raise forms.ValidationError(_("Write minutes (90) or hours:minutes (1:30)."))
        return minutes

    def chosen_manager(self) -> User | None:
        return self.staff.get(self.cleaned_data.get("manager") or "")
