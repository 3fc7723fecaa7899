"""Serializers of the cases API: the item, its timeline, attachments, RCA and trends, and one
small input serializer per action. Writes go through `cases.casework.services`; these only check
shape."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.casework.models import Attachment, Case, CaseEvent, RootCauseAnalysis
from cases.casework.selectors import Cover, case_covers, covers_of_held
from cases.satisfaction.serializers import CaseRatingSerializer
from cases.sla import Sla, case_sla, sla_state
from engagements.absences.selectors import away_among
from engagements.contracts.models import Engagement
from engagements.contracts.serializers import ProviderStaffField
from portal.api.serializers import (
    MULTILINE,
    ScopedRelatedField,
    StrictModelSerializer,
    StrictSerializer,
)
from portal.text import TEXT_MAX


class RootCauseAnalysisSerializer(serializers.ModelSerializer):
    class Meta:
        model = RootCauseAnalysis
        fields = [
            "findings",
            "corrective_actions",
            "delivery_method",
            "delivered_at",
            "author",
            "created_at",
        ]
        read_only_fields = fields


class CoverSerializer(serializers.Serializer):
    """Who covers an item while its assignee is away (SPEC §4: the deputy receives what the
    manager would), and until when."""

    user = serializers.IntegerField(source="user.pk", help_text=_("Who covers."))
    absent = serializers.IntegerField(
        source="absence.manager_id", help_text=_("The assignee, who is away.")
    )
    until = serializers.DateTimeField(source="absence.ends_at", help_text=_("When they are back."))


class CaseListSerializer(serializers.ListSerializer):
    """Items of a list: the covers of the whole page are read at once (two queries)."""

    def to_representation(self, data: Any) -> list[Any]:
        items = list(data.all() if hasattr(data, "all") else data)
        now = self.context.setdefault("now", timezone.now())
        self.context["covers"] = case_covers(items, now)
        return super().to_representation(items)


class CaseSerializer(StrictModelSerializer):
    """An inquiry, incident or service request.

    Input on create: `engagement`, `kind`, `severity`, `subject`, `description` and, for
    provider staff importing history, `received_at` (default: now). The response objective
    (`response_due_at`) follows from the plan and the engagement's business calendar.
    """

    engagement = ScopedRelatedField(model=Engagement)
    received_at = serializers.DateTimeField(
        required=False,
        help_text=_("When the item was received (default: now). Only provider staff set it."),
    )
    sla = serializers.SerializerMethodField(
        help_text=_(
            "on_track, at_risk (75 % of the response window passed), breached, or responded."
        )
    )
    response_met = serializers.SerializerMethodField(
        help_text=_(
            "Whether the response objective was met: known once responded or breached, null before."
        )
    )
    rca = RootCauseAnalysisSerializer(read_only=True, allow_null=True)
    rating = CaseRatingSerializer(read_only=True, allow_null=True)
    covering = serializers.SerializerMethodField(
        help_text=_(
            "While the assignee is away: who covers (the deputy for the manager, the manager "
            "for the deputy) and until when; null otherwise."
        )
    )

    class Meta:
        model = Case
        list_serializer_class = CaseListSerializer
        fields = [
            "id",
            "engagement",
            "kind",
            "severity",
            "subject",
            "description",
            "status",
            "received_at",
            "response_due_at",
            "first_response_at",
            "assignee",
            "priority",
            "raised_by",
            "escalated_at",
            "resolved_at",
            "closed_at",
            "sla",
            "response_met",
            "rca",
            "rating",
            "covering",
        ]
        read_only_fields = [
            "id",
            "status",
            "response_due_at",
            "first_response_at",
            "assignee",
            "priority",
            "raised_by",
            "escalated_at",
            "resolved_at",
            "closed_at",
        ]
        extra_kwargs = {"description": {"required": False, "max_length": TEXT_MAX}}

    def _sla(self, case: Case) -> tuple[str, bool | None]:
        # One clock for the whole response, so every row is judged at the same instant.
        now = self.context.setdefault("now", timezone.now())
        return case_sla(case, now)

    @extend_schema_field(serializers.ChoiceField(choices=Sla.choices))
    def get_sla(self, case: Case) -> str:
        return self._sla(case)[0]

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_response_met(self, case: Case) -> bool | None:
        return self._sla(case)[1]

    @extend_schema_field(CoverSerializer(allow_null=True))
    def get_covering(self, case: Case) -> dict[str, Any] | None:
        covers: dict[int, Cover] | None = self.context.get("covers")
        if covers is None:  # one item, not a list
            covers = case_covers([case], self.context.setdefault("now", timezone.now()))
        cover = covers.get(case.pk)
        return None if cover is None else CoverSerializer(cover).data


# --- The lean read path of the case list and detail ---------------------------------------------
#
# `CaseSerializer` stays the reference (and the schema): the API's GET of the list and of one
# item builds the same representation from plain rows (`selectors.case_rows`) without model
# instances or serializer fields, the same JSON byte for byte
# (tests/cases/test_api_lean.py renders both). A field added to `CaseSerializer` must be added
# here and to `selectors.CASE_ROW_FIELDS`; the test fails until it is.


def _time(value: datetime | None, zone: tzinfo) -> str | None:
    """As DRF's DateTimeField shows a time: ISO 8601 in the current time zone, UTC as `Z`."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def case_representations(rows: Sequence[dict[str, Any]], *, now: datetime) -> list[dict[str, Any]]:
    """`CaseSerializer(many=True).data` of rows from `selectors.case_rows`, judged at `now`:
    the covers of the whole page in at most two queries, as the serializer reads them."""
    zone = timezone.get_current_timezone()
    covers = _covers(rows, now)
    return [_case_representation(row, now, zone, covers.get(row["id"])) for row in rows]


def _covers(rows: Sequence[dict[str, Any]], now: datetime) -> dict[int, Cover]:
    """`covers_of_held` of the rows, asking first whether any holder is away at all
    (`away_among`, compiled once per scope): only an absent holder's item has a cover, and most
    requests find none, so the engagements' and absences' two statements, compiled on every
    request, are read only then (issue 17: two thirds of a detail request's time)."""
    held = [(row["id"], row["engagement_id"], row["assignee_id"]) for row in rows]
    away = away_among((assignee for _pk, _engagement, assignee in held), now)
    if not away:
        return {}
    return covers_of_held([item for item in held if item[2] in away], now)


def _case_representation(
    row: dict[str, Any], now: datetime, zone: tzinfo, cover: Cover | None
) -> dict[str, Any]:
    state, met = sla_state(
        first_response_at=row["first_response_at"],
        response_due_at=row["response_due_at"],
        reminder_due_at=row["reminder_due_at"],
        resolved_at=row["resolved_at"],
        now=now,
    )
    rca = None
    if row["rca__id"] is not None:
        rca = {
            "findings": row["rca__findings"],
            "corrective_actions": row["rca__corrective_actions"],
            "delivery_method": row["rca__delivery_method"],
            "delivered_at": _time(row["rca__delivered_at"], zone),
            "author": row["rca__author"],
            "created_at": _time(row["rca__created_at"], zone),
        }
    rating = None
    if row["rating__id"] is not None:
        rating = {
            "score": row["rating__score"],
            "comment": row["rating__comment"],
            "rated_by": row["rating__rated_by"],
            "rated_at": _time(row["rating__rated_at"], zone),
            "updated_at": _time(row["rating__updated_at"], zone),
        }
    covering = None
    if cover is not None:
        covering = {
            "user": cover.user.pk,
            "absent": cover.absence.manager_id,
            "until": _time(cover.absence.ends_at, zone),
        }
    return {
        "id": row["id"],
        "engagement": row["engagement_id"],
        "kind": row["kind"],
        "severity": row["severity"],
        "subject": row["subject"],
        "description": row["description"],
        "status": row["status"],
        "received_at": _time(row["received_at"], zone),
        "response_due_at": _time(row["response_due_at"], zone),
        "first_response_at": _time(row["first_response_at"], zone),
        "assignee": row["assignee_id"],
        "priority": row["priority"],
        "raised_by": row["raised_by_id"],
        "escalated_at": _time(row["escalated_at"], zone),
        "resolved_at": _time(row["resolved_at"], zone),
        "closed_at": _time(row["closed_at"], zone),
        "sla": state,
        "response_met": met,
        "rca": rca,
        "rating": rating,
        "covering": covering,
        "created_at": _time(row["created_at"], zone),
        "updated_at": _time(row["updated_at"], zone),
    }


class CaseEventSerializer(serializers.ModelSerializer):
    """One timeline entry. Customers only ever receive public ones."""

    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "actor", "public", "body", "data", "created_at"]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "public",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, attachment: Attachment) -> str:
        path = reverse(
            "case-attachment-download",
            kwargs={"pk": attachment.case_id, "attachment_id": attachment.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class RespondSerializer(StrictSerializer):
    body = serializers.CharField(max_length=TEXT_MAX, style=MULTILINE)


class CommentSerializer(StrictSerializer):
    body = serializers.CharField(max_length=TEXT_MAX, style=MULTILINE)
    public = serializers.BooleanField(
        default=True,
        help_text=_("False: an internal note of provider staff (customers' are always public)."),
    )


class EscalateSerializer(StrictSerializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_MAX, style=MULTILINE
    )


class ResolveSerializer(StrictSerializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_MAX, style=MULTILINE
    )


class StatusSerializer(StrictSerializer):
    # Which statuses are allowed depends on the current one: the service names the refusal.
    status = serializers.CharField(
        max_length=20,
        help_text=_(
            "in_progress, awaiting_customer, resolved, closed (once resolved), or in_progress "
            "again to reopen."
        ),
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_MAX, style=MULTILINE
    )


@extend_schema_field(OpenApiTypes.INT)
class AssigneeField(ProviderStaffField):
    pass


class AssignSerializer(StrictSerializer):
    assignee = AssigneeField(
        allow_null=True,
        help_text=_(
            "The engagement's manager or deputy (anyone else answers 400 with a field error); "
            "null: the provider queue."
        ),
    )


class BulkSerializer(StrictSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        max_length=10_000,  # parsing bound; the service refuses more than 100 by name
        help_text=_("The items, at most 100; all are changed or none."),
    )
    action = serializers.ChoiceField(choices=["assign", "status"])
    assignee = AssigneeField(
        allow_null=True,
        required=False,
        help_text=_(
            "With `assign`: a manager or deputy of every item's engagement; null: the "
            "provider queue."
        ),
    )
    status = serializers.CharField(
        max_length=20, required=False, help_text=_("With `status`: the status every item moves to.")
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_MAX, style=MULTILINE
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["action"] == "assign" and "assignee" not in attrs:
            raise serializers.ValidationError({"assignee": [_("Say whom to assign to (or null).")]})
        if attrs["action"] == "status" and not attrs.get("status"):
            raise serializers.ValidationError({"status": [_("Say which status.")]})
        return attrs


class BulkResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text=_("How many items were changed (all of them)."))


class PrioritySerializer(StrictSerializer):
    priority = serializers.IntegerField(
        min_value=1, max_value=5, allow_null=True, help_text=_("1 (highest) to 5; null: none.")
    )


class RootCauseAnalysisInputSerializer(StrictSerializer):
    findings = serializers.CharField(max_length=TEXT_MAX, style=MULTILINE)
    corrective_actions = serializers.CharField(max_length=TEXT_MAX, style=MULTILINE)
    # The methods depend on the plan's RCA cadence: the service names them when refusing.
    delivery_method = serializers.CharField(
        max_length=12,
        help_text=_("in_person, video, email or phone: one the plan's RCA cadence allows."),
    )
    delivered_at = serializers.DateTimeField()


class AttachmentUploadSerializer(StrictSerializer):
    file = serializers.FileField(
        help_text=_("PNG, JPEG, PDF or ZIP (judged by content), at most 10 MB.")
    )
    public = serializers.BooleanField(
        default=True, help_text=_("False hides it from the customer (provider staff only).")
    )


class CountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_kind = serializers.DictField(child=serializers.IntegerField())
    by_severity = serializers.DictField(
        child=serializers.IntegerField(), help_text=_('Keyed by severity, "0" to "3".')
    )


class TrendWeekSerializer(serializers.Serializer):
    week_start = serializers.DateField(help_text=_("Monday, in the engagement's time zone."))
    opened = CountsSerializer()
    closed = CountsSerializer()


class TrendsSerializer(serializers.Serializer):
    engagement = serializers.IntegerField()
    timezone = serializers.CharField()
    weeks = TrendWeekSerializer(many=True, help_text=_("The last 12 weeks, oldest first."))
    open_by_status = serializers.DictField(child=serializers.IntegerField())
