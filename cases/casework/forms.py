"""Forms of the case pages. They parse input; `cases.casework.services` decides the rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from cases.casework.models import Case
from cases.casework.services import ATTACHMENT_MAX_BYTES, NOT_SERVING, open_items_of_assignee
from engagements.absences.forms import DATETIME_INPUT
from engagements.catalog.models import Method
from engagements.contracts.forms import StaffChoiceField, active_provider_staff
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.forms import PortalForm, ScopedForm
from portal.text import TEXT_MAX

FILE_HELP = lazy(
    lambda: (
        _("PNG, JPEG, PDF or ZIP, at most %(megabytes)d MB.")
        % {"megabytes": ATTACHMENT_MAX_BYTES // (1024 * 1024)}
    ),
    str,
)()


def raisable_engagements(user: User) -> QuerySet[Engagement]:
    """Where the user may raise items: a customer's engagements as an active named contact;
    the engagements a manager serves; every engagement for admins. Expired ones are left out."""
    queryset = Engagement.objects.select_related("organization", "plan").filter(
        end_date__gte=timezone.now().date() - timedelta(days=1)
    )
    if user.is_provider_admin:
        return queryset
    if user.is_provider_staff:
        return queryset.filter(Q(manager=user) | Q(deputy=user))
    return queryset.filter(contacts__user=user, contacts__removed_at__isnull=True).distinct()


class EngagementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Engagement) -> str:
        name = str(obj)
        return name if obj.organization.name in name else f"{name} · {obj.organization.name}"


class CaseForm(ScopedForm):
    """Raise an item. Provider staff may set when it was received (importing history)."""

    engagement = EngagementChoiceField(label=_("Engagement"), queryset=Engagement.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=Case.Kind.choices)
    severity = forms.TypedChoiceField(
        label=_("Severity"),
        choices=Case.Severity.choices,
        coerce=int,
        initial=Case.Severity.MEDIUM,
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    file = forms.FileField(label=_("Attachment"), required=False, help_text=FILE_HELP)
    received_at = forms.DateTimeField(
        label=_("Received"),
        widget=DATETIME_INPUT,
        required=False,
        help_text=_("When importing history: when the customer raised it (your time zone)."),
    )

    def __init__(self, *args: Any, acting_user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["engagement"])
        field.queryset = raisable_engagements(acting_user)
        field.widget.attrs["autofocus"] = True
        if not acting_user.is_provider_staff:
            del self.fields["received_at"]


class ReplyForm(PortalForm):
    body = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=TEXT_MAX
    )
    internal = forms.BooleanField(
        label=_("Internal note (not visible to the customer)"), required=False
    )

    def __init__(self, *args: Any, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["internal"]


class StatusForm(PortalForm):
    status = forms.ChoiceField(choices=Case.Status.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class AssigneeChoiceField(StaffChoiceField):
    def label_from_instance(self, obj: User) -> str:
        label = super().label_from_instance(obj)
        load = getattr(obj, "open_items", None)
        if load is None:
            return label
        return _("%(person)s · %(count)d open") % {"person": label, "count": load}


def staff_with_load(engagement: Engagement) -> QuerySet[User]:
    """Who may hold the engagement's items (its active manager and deputy, see
    `cases.casework.services.assignable`) with their open assigned items, in one query."""
    serving = [pk for pk in (engagement.manager_id, engagement.deputy_id) if pk]
    return (
        active_provider_staff().filter(pk__in=serving).annotate(open_items=open_items_of_assignee())
    )


class AssignForm(PortalForm):
    assignee = AssigneeChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Provider queue (unassigned)"),
        error_messages={"invalid_choice": NOT_SERVING},
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = staff_with_load(
            case.engagement
        )


class EscalateForm(PortalForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)


class PriorityForm(PortalForm):
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("None")), *[(n, str(n)) for n in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("1 is the highest."),
    )


class RcaForm(PortalForm):
    """The root cause analysis of a severity-0 incident; methods come from the plan's RCA
    cadence."""

    findings = forms.CharField(label=_("Key findings"), widget=forms.Textarea(attrs={"rows": 4}))
    corrective_actions = forms.CharField(
        label=_("Corrective actions"), widget=forms.Textarea(attrs={"rows": 4})
    )
    delivery_method = forms.ChoiceField(label=_("Delivered by"))
    delivered_at = forms.DateTimeField(
        label=_("Delivered at"),
        widget=DATETIME_INPUT,
        help_text=_("In your time zone."),
    )

    def __init__(self, *args: Any, methods: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["delivery_method"]).choices = [
            (code, Method(code).label if code in Method.values else code) for code in methods
        ]


class AttachForm(PortalForm):
    file = forms.FileField(label=_("File"), help_text=FILE_HELP)
    internal = forms.BooleanField(label=_("Internal (not visible to the customer)"), required=False)

    def __init__(self, *args: Any, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["internal"]


class ItemIdsField(forms.Field):
    """The ticked items of the case list (`ids`, repeated), as sorted distinct ids."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(item) for item in value})
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(_("Choose items from the list.")) from exc


# What an item can be moved to from the list (new and responded are where items start).
BULK_STATUSES = (
    Case.Status.IN_PROGRESS,
    Case.Status.AWAITING_CUSTOMER,
    Case.Status.RESOLVED,
    Case.Status.CLOSED,
)


def bulk_assignees() -> QuerySet[User]:
    """Who may hold items of the engagements in the actor's scope (their active managers and
    deputies), with their open items, in one query: the list's "Assign to" choices."""
    serving = Engagement.objects.order_by()
    return (
        active_provider_staff()
        .filter(Q(pk__in=serving.values("manager")) | Q(pk__in=serving.values("deputy")))
        .annotate(open_items=open_items_of_assignee())
    )


class BulkForm(PortalForm):
    """The case list's bulk action: assign the ticked items, or change their status."""

    ids = ItemIdsField(required=False)
    action = forms.ChoiceField(
        choices=[("assign", _("Assign")), ("status", _("Change status"))],
    )
    assignee = AssigneeChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Provider queue (unassigned)"),
    )
    status = forms.ChoiceField(
        label=_("Change status to"),
        choices=[(status.value, status.label) for status in BULK_STATUSES],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = bulk_assignees()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        return data
