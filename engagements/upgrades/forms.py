"""Upgrade plans and their milestones (service function `upgrade_planning`): forms."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.contracts.models import Engagement
from engagements.upgrades.models import UpgradePlan
from portal.accounts.models import User
from portal.forms import PortalForm, ScopedForm, long_text_field


class UpgradePlanForm(PortalForm):
    current_version = forms.CharField(label=_("Current version"), max_length=100)
    target_version = forms.CharField(label=_("Target version"), max_length=100)
    status = forms.ChoiceField(label=_("Status"), choices=UpgradePlan.Status.choices)
    notes = long_text_field(_("Notes"))


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
