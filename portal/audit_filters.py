"""The audit trail's filters, shared by the /audit/ page and /api/v1/audit-entries/: who (the
actor), what (the action, the object's type and id), when (a date range in the reader's time
zone) and which kind of change (configuration, work on items, personal preferences)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal import audit_words
from portal.accounts.models import User
from portal.audit import AuditEntry
from portal.filters import IdFilter

CHANGES = "changes"  # configuration and work: everything but personal preferences
ALL = "all"
KIND_CHOICES = [
    (CHANGES, _("Everything but personal preferences")),
    (audit_words.CONFIGURATION, audit_words.KIND_LABELS[audit_words.CONFIGURATION]),
    (audit_words.WORK, audit_words.KIND_LABELS[audit_words.WORK]),
    (audit_words.PERSONAL, audit_words.KIND_LABELS[audit_words.PERSONAL]),
    (ALL, _("Everything")),
]


def _start_of(day: date) -> datetime:
    """Midnight of `day` in the reader's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


class AuditEntryFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(
        label=pgettext_lazy("audit filter", "Who"), queryset=User.objects.all()
    )
    action = django_filters.CharFilter(label=_("Action"))
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith")
    object_type = django_filters.CharFilter(label=pgettext_lazy("audit filter", "What"))
    object_id = django_filters.CharFilter(label=_("Object id"))
    organization = IdFilter(field_name="organization_id")
    kind = django_filters.ChoiceFilter(
        label=_("Kind of change"), choices=KIND_CHOICES, method="filter_kind", empty_label=None
    )
    date_from = django_filters.DateFilter(
        label=pgettext_lazy("audit filter", "From"), method="filter_date_from"
    )
    date_to = django_filters.DateFilter(
        label=pgettext_lazy("audit filter", "To"), method="filter_date_to"
    )
    at_after = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "object_type", "object_id", "organization"]

    def filter_kind(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet:
        """Actions nobody registered count as configuration."""
        if value == ALL or not value:
            return queryset
        personal = audit_words.actions_of_kind(audit_words.PERSONAL)
        if value == CHANGES:
            return queryset.exclude(action__in=personal)
        if value == audit_words.CONFIGURATION:
            others = personal + audit_words.actions_of_kind(audit_words.WORK)
            return queryset.exclude(action__in=others)
        return queryset.filter(action__in=audit_words.actions_of_kind(value))

    def filter_date_from(self, queryset: QuerySet[AuditEntry], name: str, value: date) -> QuerySet:
        return queryset.filter(at__gte=_start_of(value))

    def filter_date_to(self, queryset: QuerySet[AuditEntry], name: str, value: date) -> QuerySet:
        """Up to the end of that day: the day itself is in."""
        return queryset.filter(at__lt=_start_of(value + timedelta(days=1)))


class AuditPageFilter(AuditEntryFilter):
    """The page's form: who among those who changed something, what among the types of object
    changed, the kind (by default everything but personal preferences) and the dates."""

    object_type = django_filters.ChoiceFilter(
        label=pgettext_lazy("audit filter", "What"),
        empty_label=pgettext_lazy("audit filter", "Anything"),
    )

    class Meta:
        model = AuditEntry
        fields = ["actor", "kind", "object_type", "object_id", "date_from", "date_to"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for api_only in ("action_prefix", "organization", "at_after", "at_before"):
            del self.filters[api_only]
        self.filters["action"].extra["widget"] = forms.HiddenInput()
        for day in ("date_from", "date_to"):
            self.filters[day].extra["widget"] = forms.DateInput(attrs={"type": "date"})
        actor = self.filters["actor"]
        actor.queryset = User.objects.filter(
            pk__in=AuditEntry.objects.filter(actor__isnull=False).values("actor_id")
        ).order_by("name", "email")
        actor.extra["empty_label"] = pgettext_lazy("audit filter", "Anyone")
        types = AuditEntry.objects.order_by().values_list("object_type", flat=True).distinct()
        self.filters["object_type"].extra["choices"] = sorted(
            ((label, audit_words.object_type_label(label).capitalize()) for label in types),
            key=lambda choice: choice[1],
        )
