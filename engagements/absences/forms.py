"""Absences of service managers and who is responsible meanwhile: forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.absences.models import Absence
from engagements.contracts.forms import StaffChoiceField, active_provider_staff
from portal.accounts.models import User
from portal.forms import PortalForm

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AbsenceForm(PortalForm):
    """Start and end are read in the viewer's zone (the portal activates it per request)."""

    manager = StaffChoiceField(
        label=_("Who is away"), queryset=active_provider_staff(), required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Absence.Kind.choices)
    starts_at = forms.DateTimeField(label=_("From"), widget=DATETIME_INPUT)
    ends_at = forms.DateTimeField(label=_("Until"), widget=DATETIME_INPUT)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, acting_user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if acting_user.is_provider_admin:
            self.fields["manager"].initial = acting_user.pk
            self.fields["manager"].help_text = _("Admins can record anyone's absence.")
        else:
            del self.fields["manager"]
        zone = timezone.get_current_timezone_name()
        self.fields["starts_at"].help_text = _("In your time zone, %(zone)s.") % {"zone": zone}
