"""Forms of the customer profile, advocacy log and upgrade plan pages. They parse input; the
services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.models import AdvocacyItem, Engagement, UpgradePlan
from portal.accounts.models import User
from portal.forms import PortalForm, ScopedForm

TEXT_MAX = 20_000


def _text(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=TEXT_MAX,
        help_text=help_text,
    )


class CustomerProfileForm(PortalForm):
    roadmap = _text(_("Roadmap"), _("Where the customer is heading with the platform."))
    use_cases = _text(_("Use cases"))
    priorities = _text(_("Priorities"))
    key_dates = _text(_("Key dates"), _("Go-lives, freezes, audits, renewals."))


class AdvocacyItemForm(PortalForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=AdvocacyItem.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = _text(_("Description"))


class AdvocacyStaffForm(AdvocacyItemForm):
    status = forms.ChoiceField(label=_("Status"), choices=AdvocacyItem.Status.choices)
    outcome = _text(_("Outcome"))
    internal_reference = forms.CharField(
        label=_("Internal reference"), max_length=100, required=False
    )


class UpgradePlanForm(PortalForm):
    current_version = forms.CharField(label=_("Current version"), max_length=100)
    target_version = forms.CharField(label=_("Target version"), max_length=100)
    status = forms.ChoiceField(label=_("Status"), choices=UpgradePlan.Status.choices)
    notes = _text(_("Notes"))


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.name or obj.email


class UpgradeMilestoneForm(ScopedForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    owner = OwnerChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    owner_name = forms.CharField(
        label=_("Owner name"),
        max_length=200,
        required=False,
        help_text=_("Someone without an account, e.g. the customer's DBA."),
    )

    def __init__(self, *args: Any, engagement: Engagement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = [engagement.manager_id, engagement.deputy_id]
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = User.objects.filter(
            pk__in=[pk for pk in staff if pk]
        ) | User.objects.filter(
            pk__in=engagement.contacts.filter(removed_at__isnull=True).values("user_id")
        )
