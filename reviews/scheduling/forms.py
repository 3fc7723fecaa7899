"""Forms of the session pages. They parse and check input; `reviews.scheduling.services` decides
the rules
(which methods the plan allows, who may attend, what may be requested).

People and deliverables are offered as plain choices computed once by the view, so rendering a
form with five action-item rows issues no query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.catalog.models import Cadence, Entitlement, Frequency, Method
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.forms import PortalForm, ScopedForm, offer

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


MAX_ACTION_ITEMS = 5


def person_label(user: User) -> str:
    return user.name or user.email


def method_choices(codes: list[str]) -> list[tuple[str, str]]:
    labels = dict(Method.choices)
    return [(code, str(labels.get(code, code))) for code in codes]


class CompleteForm(PortalForm):
    """What happened. Any known method parses; the service refuses one the plan does not allow,
    so the select offers only the allowed ones."""

    method = forms.ChoiceField(label=_("Method used"), choices=Method.choices)
    attendees = forms.TypedMultipleChoiceField(
        label=_("Attendees"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_attendees = forms.CharField(
        label=_("Other attendees"),
        max_length=300,
        required=False,
        help_text=_("People without a portal account, comma-separated."),
    )
    minutes = forms.CharField(
        label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 8}), max_length=50_000
    )

    def __init__(
        self, *args: Any, allowed_methods: list[str], people: list[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.people = {person.pk: person for person in people}
        self.fields["method"].widget.choices = method_choices(allowed_methods)
        if len(allowed_methods) == 1:
            self.fields["method"].initial = allowed_methods[0]
        cast(forms.ChoiceField, self.fields["attendees"]).choices = [
            (person.pk, person_label(person)) for person in people
        ]

    def chosen_attendees(self) -> list[User]:
        return [self.people[pk] for pk in self.cleaned_data.get("attendees", [])]


class ActionItemForm(PortalForm):
    """One row of the completion form; a blank row is ignored."""

    description = forms.CharField(label=_("Action"), max_length=300, required=False)
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False, empty_value=None)
    due_date = forms.DateField(label=_("Due"), required=False, widget=DATE_INPUT)

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {person.pk: person for person in people}
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", _("Nobody yet"))] + [
            (person.pk, person_label(person)) for person in people
        ]

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not (data.get("description") or data.get("owner") or data.get("due_date"))

    def item(self) -> dict[str, Any]:
        """The row as `occurrence_complete` takes it."""
        data = self.cleaned_data
        return {
            "description": data.get("description", ""),
            "owner": self.people.get(data["owner"]) if data.get("owner") else None,
            "due_date": data.get("due_date"),
        }


ActionItemFormSet = forms.formset_factory(
    ActionItemForm, extra=MAX_ACTION_ITEMS, max_num=MAX_ACTION_ITEMS, validate_max=True
)


class CancelForm(PortalForm):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


@dataclass(frozen=True)
class Requestable:
    """An "as needed" deliverable a plan includes, with the methods it is delivered by."""

    plan_id: int
    code: str
    name: str
    methods: list[str]


def requestable_deliverables(plan_ids: set[int]) -> list[Requestable]:
    """The plans' "as needed" cadences whose function the plan includes, in one query."""
    cadences = (
        Cadence.objects.filter(plan_id__in=plan_ids, frequency=Frequency.AS_NEEDED)
        .filter(
            Exists(
                Entitlement.objects.filter(plan=OuterRef("plan"), function=OuterRef("deliverable"))
            )
        )
        .select_related("deliverable")
        .order_by("plan_id", "deliverable__position", "deliverable_id")
    )
    return [
        Requestable(
            plan_id=cadence.plan_id,
            code=cadence.deliverable.code,
            name=cadence.deliverable.display_name,
            methods=list(cadence.methods),
        )
        for cadence in cadences
    ]


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time without a zone: the form places it in the engagement's zone."""

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is not None and timezone.is_aware(result):
            result = timezone.make_naive(result)
        return result


class RequestForm(ScopedForm):
    """Engagement, deliverable and method narrow each other: the selects offer what fits the
    chosen engagement's plan (re-rendered by htmx on change); the service checks the rest."""

    engagement = forms.ModelChoiceField(label=_("Engagement"), queryset=Engagement.objects.all())
    deliverable = forms.ChoiceField(label=_("What"))
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices)
    preferred_start = LocalDateTimeField(
        label=_("Preferred date and time"),
        widget=DATETIME_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        required=False,
        help_text=_("What you would like to cover."),
    )

    def __init__(
        self,
        *args: Any,
        engagements: QuerySet[Engagement],
        engagement_list: list[Engagement],
        deliverables: list[Requestable],
        refresh_url: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # After the mixin: the requester's engagements, still inside the request's scope.
        engagement_field = cast(forms.ModelChoiceField, self.fields["engagement"])
        engagement_field.queryset = engagements
        offer(engagement_field, engagement_list)  # read once, by the view
        self.deliverables = deliverables
        choices = sorted(
            {(item.code, item.name) for item in deliverables}, key=lambda pair: pair[1]
        )
        cast(forms.ChoiceField, self.fields["deliverable"]).choices = choices
        by_pk: dict[int | None, Engagement] = {
            engagement.pk: engagement for engagement in engagement_list
        }
        self.selected_engagement = by_pk.get(self._chosen_int("engagement")) or (
            engagement_list[0] if engagement_list else None
        )
        # The other fields follow the engagement, so one is always chosen.
        engagement_field.empty_label = None
        if not self.is_bound and self.selected_engagement is not None:
            self.initial["engagement"] = self.selected_engagement.pk
        offered = [
            item
            for item in deliverables
            if self.selected_engagement and item.plan_id == self.selected_engagement.plan_id
        ]
        self.fields["deliverable"].widget.choices = [(item.code, item.name) for item in offered]
        chosen = self._chosen("deliverable")
        self.selected_deliverable = next(
            (item for item in offered if item.code == chosen), offered[0] if offered else None
        )
        methods = self.selected_deliverable.methods if self.selected_deliverable else []
        self.fields["method"].widget.choices = method_choices(methods)
        if self.selected_engagement is not None:
            self.fields["preferred_start"].help_text = _(
                "In the engagement's time zone (%(zone)s)."
            ) % {"zone": self.selected_engagement.timezone}
        htmx = {
            "hx-get": refresh_url,
            "hx-trigger": "change",
            "hx-include": "closest form",
            "hx-target": "#request-fields",
            "hx-select": "#request-fields",
            "hx-swap": "outerHTML",
        }
        self.fields["engagement"].widget.attrs.update(htmx)
        self.fields["deliverable"].widget.attrs.update(htmx)

    def _chosen(self, name: str) -> str:
        source = self.data if self.is_bound else self.initial
        value = source.get(name, "")
        return str(getattr(value, "pk", value) or "")

    def _chosen_int(self, name: str) -> int | None:
        try:
            return int(self._chosen(name))
        except ValueError:
            return None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        engagement = data.get("engagement")
        start = data.get("preferred_start")
        if engagement is not None and start is not None:
            data["preferred_start"] = start.replace(tzinfo=engagement.zone)
        return data
