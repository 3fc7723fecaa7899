"""The cases API: items, their timeline, attachments, RCA and trends.

Every write goes through `cases.casework.services`, which also decides who may do what (403
`permission_denied`, `not_entitled`) and refuses what breaks a rule (409 `conflict`,
`manager_case_cap_reached`). Each item is fetched through the actor's scope first, so another
tenant's item answers 404 before anything else is looked at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404 as get_row_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cases.casework import services
from cases.casework.filters import CaseFilter
from cases.casework.models import Attachment, Case, CaseEvent
from cases.casework.selectors import case_rows, case_rows_by_id, case_trends, page_ids
from cases.casework.serializers import (
    AssignSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    BulkResultSerializer,
    BulkSerializer,
    CaseEventSerializer,
    CaseSerializer,
    CommentSerializer,
    EscalateSerializer,
    PrioritySerializer,
    ResolveSerializer,
    RespondSerializer,
    RootCauseAnalysisInputSerializer,
    RootCauseAnalysisSerializer,
    StatusSerializer,
    TrendsSerializer,
    case_representations,
)
from cases.satisfaction import services as satisfaction_services
from cases.satisfaction.serializers import RateSerializer
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from portal.api.pagination import KeysetCursorPagination
from portal.api.views import PortalReadCreateViewSet
from portal.files import protected_file_response
from portal.http import actor


class TimelinePagination(KeysetCursorPagination):
    ordering = ("created_at", "id")


class AttachmentPagination(KeysetCursorPagination):
    ordering = ("uploaded_at", "id")


class CasePagination(KeysetCursorPagination):
    """Cases newest first, or in one of a few other orders chosen with `?ordering=`, or with
    `?sort=` in the case list page's words (`SORTS`)."""

    ordering_param = "ordering"
    sort_param = "sort"
    default_ordering = "-received_at"
    orderings: dict[str, tuple[str, ...]] = {
        "subject": ("subject", "id"),
        "-subject": ("-subject", "-id"),
        "status": ("status", "id"),
        "-status": ("-status", "-id"),
        "-received_at": ("-received_at", "-id"),
        "received_at": ("received_at", "id"),
        # The manager's queue: what is due first.
        "response_due_at": ("response_due_at", "id"),
        "-response_due_at": ("-response_due_at", "-id"),
        # Most critical first (severity 0), then what is due first.
        "severity": ("severity", "response_due_at", "id"),
        "-severity": ("-severity", "response_due_at", "id"),
        # Incremental sync (portal.api.sync): what changed, oldest change first.
        "updated_at": ("updated_at", "id"),
        "-updated_at": ("-updated_at", "-id"),
    }

    # Set by the view on its lean read path: the page's rows as plain dicts
    # (`selectors.case_rows`), not model instances.
    lean = False

    def _rows(self, queryset: QuerySet, limit: int) -> list[Any]:
        """The page's ids first (a narrow query the database sorts cheaply), then those rows
        with their joins: joining every matching item before the sort cost tens of ms for an
        organization with thousands of items (bench/README.md, HTTP benchmark)."""
        # With no query parameter (no filter, cursor or order) the query is always the same.
        shape = None if self.request.query_params else "CaseViewSet.list"
        ids = page_ids(queryset, limit, shape=shape)
        rows: dict[int, Any]
        if self.lean:
            # By id through the scope: the ids already passed the filters and the cursor.
            rows = {row["id"]: row for row in case_rows_by_id(ids)}
        else:
            rows = queryset.order_by().in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]

    # The page's sort keys the cursor can page through (`assignee` and `engagement` sort by a
    # related name that may be empty: the page only).
    SORTS: dict[str, str] = {
        "subject": "subject",
        "severity": "severity",
        "status": "status",
        "raised": "received_at",
        "due": "response_due_at",
    }

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        sort = request.query_params.get(self.sort_param)
        if sort is not None:
            if self.ordering_param in request.query_params:
                raise ValidationError(
                    {self.sort_param: [_("Give either ordering or sort, not both.")]}
                )
            descending = sort.startswith("-")
            field = self.SORTS.get(sort[1:] if descending else sort)
            if field is None:
                choices = ", ".join(f"{key}, -{key}" for key in self.SORTS)
                raise ValidationError(
                    {self.sort_param: [_("Sort by one of: %(choices)s.") % {"choices": choices}]}
                )
            # As the page sorts: the column, then the id, both the same way.
            return (f"-{field}", "-id") if descending else (field, "id")
        chosen = request.query_params.get(self.ordering_param) or self.default_ordering
        if chosen not in self.orderings:
            raise ValidationError(
                {
                    self.ordering_param: [
                        _("Order by one of: %(choices)s.") % {"choices": ", ".join(self.orderings)}
                    ]
                }
            )
        return self.orderings[chosen]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            *(
                parameter
                for parameter in super().get_schema_operation_parameters(view)
                if parameter["name"] != self.ordering_param
            ),
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "The order of the list (default: newest received first).",
                "schema": {
                    "type": "string",
                    "enum": list(self.orderings),
                    "default": self.default_ordering,
                },
            },
            {
                "name": self.sort_param,
                "required": False,
                "in": "query",
                "description": "The order in the case list page's words (instead of ordering): "
                "subject, severity, status, raised, due; a leading - reverses it. Ties are "
                "broken by id, in the same direction.",
                "schema": {
                    "type": "string",
                    "enum": [f"{sign}{key}" for key in self.SORTS for sign in ("", "-")],
                },
            },
        ]


ATTACHMENT_ID = OpenApiParameter("attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH)


ERRORS = {
    400: OpenApiResponse(description="validation_error"),
    403: OpenApiResponse(description="permission_denied or not_entitled"),
    404: OpenApiResponse(description="not_found"),
}


CONFLICTS = {**ERRORS, 409: OpenApiResponse(description="conflict")}


@extend_schema(tags=["cases"])
class CaseViewSet(PortalReadCreateViewSet):
    """Inquiries, incidents and service requests the actor may see, newest first.

    Named contacts raise items; provider staff serving the engagement may also raise them and
    set `received_at` when importing history. Everything else is an action: `respond`,
    `comment`, `escalate`, `resolve`, `status`, `assign`, `priority`, `rca`, and the
    customer's `rating` of the resolution; the timeline is `events/`, files are
    `attachments/`, and `trends/?engagement=` summarizes an engagement.
    """

    queryset = Case.objects.all()
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    pagination_class = CasePagination

    def get_queryset(self) -> QuerySet[Case]:
        if self.action in ("list", "retrieve"):
            # The representation names engagement and people by id: only the RCA is nested.
            return Case.objects.select_related("rca", "rating")
        return Case.objects.select_related(
            "engagement__plan", "assignee", "raised_by", "rca", "rating"
        )

    def filter_queryset(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        # One item by id: the list's filters do not apply, and building them costs more than
        # the lookup itself.
        if self.action == "retrieve":
            return queryset
        return super().filter_queryset(queryset)

    # --- The lean read path: the list and one item as plain rows and dicts, the same JSON as
    # CaseSerializer (which stays the reference and the schema): ~3 times less time a request.

    def _lean(self) -> bool:
        """A GET of the list or one item answered in JSON (the browsable API builds forms from
        the serializer) under permissions that judge no object (they would be given a row)."""
        renderer = getattr(self.request, "accepted_renderer", None)
        return (
            self.action in ("list", "retrieve")
            and renderer is not None
            and renderer.format == "json"
            and all(
                type(permission).has_object_permission
                is permissions.BasePermission.has_object_permission
                for permission in self.get_permissions()
            )
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not self._lean():
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        paginator = cast(CasePagination, self.paginator)
        paginator.lean = True
        rows = paginator.paginate_queryset(queryset, request, view=self) or []
        return paginator.get_paginated_response(case_representations(rows, now=timezone.now()))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not self._lean():
            return super().retrieve(request, *args, **kwargs)
        lookup = self.lookup_url_kwarg or self.lookup_field
        raw = self.kwargs[lookup]
        row: dict[str, Any]
        if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 18:
            found = case_rows_by_id([int(raw)])  # a missing id or another tenant's: none
            if not found:
                raise Http404
            row = found[0]
        else:  # the same 404 as get_object's for an id that is not a number or out of range
            rows: Any = case_rows(self.get_queryset())
            row = get_row_or_404(rows, pk=raw)
        return Response(case_representations([row], now=timezone.now())[0])

    def _case_response(self, case: Case, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=case.pk)
        return Response(
            CaseSerializer(fresh, context=self.get_serializer_context()).data, status=status_code
        )

    def _input(self, request: Request) -> dict[str, Any]:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        responses={
            201: CaseSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            409: OpenApiResponse(
                description="engagement_not_active (a customer's item on an engagement whose "
                "term has ended or not begun)"
            ),
        }
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = self._input(request)
        case = services.case_raise(
            acting_user=actor(request),
            engagement=data["engagement"],
            kind=data["kind"],
            # Optional in the schema (the model's default): absent is medium, not a 500.
            severity=data.get("severity", Case.Severity.MEDIUM),
            subject=data["subject"],
            description=data.get("description", ""),
            received_at=data.get("received_at"),
        )
        return self._case_response(case, status_code=status.HTTP_201_CREATED)

    # --- Actions: fetch the item through the scope (404), check the input (400), then the
    # service decides (403, 409).

    @extend_schema(request=RespondSerializer, responses={200: CaseSerializer, **ERRORS})
    @action(detail=True, methods=["post"], serializer_class=RespondSerializer, filter_backends=[])
    def respond(self, request: Request, pk: str | None = None) -> Response:
        """The manager's or deputy's public response; the first one stops the response clock."""
        case = self.get_object()
        data = self._input(request)
        services.case_respond(acting_user=actor(request), case=case, body=data["body"])
        return self._case_response(case)

    @extend_schema(request=CommentSerializer, responses={201: CaseEventSerializer, **ERRORS})
    @action(detail=True, methods=["post"], serializer_class=CommentSerializer, filter_backends=[])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        """A comment; provider staff may make it internal (`public: false`)."""
        case = self.get_object()
        data = self._input(request)
        event = services.case_comment(
            acting_user=actor(request), case=case, body=data["body"], public=data["public"]
        )
        return Response(CaseEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EscalateSerializer, responses={200: CaseSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"], serializer_class=EscalateSerializer, filter_backends=[])
    def escalate(self, request: Request, pk: str | None = None) -> Response:
        """Escalate an open item (plans with `escalation_management`; else 403 not_entitled)."""
        case = self.get_object()
        data = self._input(request)
        services.case_escalate(acting_user=actor(request), case=case, reason=data.get("reason", ""))
        return self._case_response(case)

    @extend_schema(request=ResolveSerializer, responses={200: CaseSerializer, **ERRORS})
    @action(detail=True, methods=["post"], serializer_class=ResolveSerializer, filter_backends=[])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Mark the item resolved, with an optional note to the customer."""
        case = self.get_object()
        data = self._input(request)
        services.case_resolve(acting_user=actor(request), case=case, note=data.get("note", ""))
        return self._case_response(case)

    @extend_schema(request=StatusSerializer, responses={200: CaseSerializer, **CONFLICTS})
    @action(
        detail=True,
        methods=["post"],
        url_path="status",
        url_name="status",
        serializer_class=StatusSerializer,
        filter_backends=[],
    )
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        """Move the item along its workflow; a severity-0 incident closes only with an RCA
        (409 conflict). Contacts may close or reopen a resolved item."""
        case = self.get_object()
        data = self._input(request)
        services.case_set_status(
            acting_user=actor(request), case=case, status=data["status"], note=data.get("note", "")
        )
        return self._case_response(case)

    @extend_schema(
        request=AssignSerializer,
        responses={
            200: CaseSerializer,
            **ERRORS,
            409: OpenApiResponse(description="manager_case_cap_reached"),
        },
    )
    @action(detail=True, methods=["post"], serializer_class=AssignSerializer, filter_backends=[])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Assign to the engagement's manager or deputy (anyone else answers 400 on
        `assignee`), or `null` for the provider queue; a manager at the cap of open items
        answers 409 `manager_case_cap_reached`."""
        case = self.get_object()
        data = self._input(request)
        services.case_assign(acting_user=actor(request), case=case, assignee=data["assignee"])
        return self._case_response(case)

    @extend_schema(
        request=BulkSerializer,
        responses={
            200: BulkResultSerializer,
            **ERRORS,
            404: OpenApiResponse(description="not_found: an id names no item you can see"),
            409: OpenApiResponse(description="conflict or manager_case_cap_reached"),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        serializer_class=BulkSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def bulk(self, request: Request) -> Response:
        """Assign (`action: assign`, `assignee`) or move (`action: status`, `status`) up to 100
        items at once, with the same rules as one by one (staff only). All or nothing: the
        first refusal undoes every change and names its item (`#id`) in `detail` and in
        `fields.ids`; an id you cannot see is a 404 like a missing one."""
        data = self._input(request)
        if data["action"] == "assign":
            changed = services.cases_bulk_assign(
                acting_user=actor(request), ids=data["ids"], assignee=data["assignee"]
            )
        else:
            changed = services.cases_bulk_set_status(
                acting_user=actor(request),
                ids=data["ids"],
                status=data["status"],
                note=data.get("note", ""),
            )
        return Response({"changed": changed})

    @extend_schema(request=PrioritySerializer, responses={200: CaseSerializer, **ERRORS})
    @action(
        detail=True,
        methods=["post"],
        url_path="priority",
        url_name="priority",
        serializer_class=PrioritySerializer,
        filter_backends=[],
    )
    def set_priority(self, request: Request, pk: str | None = None) -> Response:
        """Set the priority (plans with `case_management`; else 403 not_entitled)."""
        case = self.get_object()
        data = self._input(request)
        services.case_set_priority(acting_user=actor(request), case=case, priority=data["priority"])
        return self._case_response(case)

    @extend_schema(
        request=RootCauseAnalysisInputSerializer,
        responses={201: RootCauseAnalysisSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        serializer_class=RootCauseAnalysisInputSerializer,
        filter_backends=[],
    )
    def rca(self, request: Request, pk: str | None = None) -> Response:
        """Record the root cause analysis of a severity-0 incident, delivered by a method the
        plan's RCA cadence allows. The case shows it as `rca`."""
        case = self.get_object()
        data = self._input(request)
        analysis = services.case_record_rca(acting_user=actor(request), case=case, **data)
        return Response(RootCauseAnalysisSerializer(analysis).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RateSerializer, responses={200: CaseSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"], serializer_class=RateSerializer, filter_backends=[])
    def rating(self, request: Request, pk: str | None = None) -> Response:
        """The customer rates the resolution of a resolved or closed item: `score` 1 to 5 and
        an optional `comment`. Named contacts and the requester only (else 403); once, and
        changeable for 14 days (409 conflict afterwards, or while the item is not resolved).
        The case shows it as `rating`."""
        case = self.get_object()
        data = self._input(request)
        satisfaction_services.case_rate(
            acting_user=actor(request),
            case=case,
            score=data["score"],
            comment=data.get("comment", ""),
        )
        return self._case_response(case)

    @extend_schema(request=None, responses=CaseEventSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        serializer_class=CaseEventSerializer,
        filter_backends=[],
        pagination_class=TimelinePagination,
    )
    def events(self, request: Request, pk: str | None = None) -> Response:
        """The timeline, oldest first. Customers see only its public entries."""
        case = self.get_object()
        events = CaseEvent.objects.filter(case=case)
        if not actor(request).is_provider_staff:
            events = events.filter(public=True)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(methods=["GET"], request=None, responses=AttachmentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=AttachmentSerializer,
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
        pagination_class=AttachmentPagination,
    )
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        """The item's files (customers see the public ones); POST uploads one as multipart
        form data (`file`, and `public` for provider staff)."""
        case = self.get_object()
        if request.method == "POST":
            upload = AttachmentUploadSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            attachment = services.case_attach(
                acting_user=actor(request),
                case=case,
                upload=upload.validated_data["file"],
                public=upload.validated_data["public"],
            )
            return Response(self.get_serializer(attachment).data, status=status.HTTP_201_CREATED)
        attachments = self._attachments(request, case)
        page = self.paginate_queryset(attachments)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        parameters=[ATTACHMENT_ID],
        request=None,
        responses={
            # The stored file's own type (image/png, application/pdf, ...).
            (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            404: ERRORS[404],
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)/download",
        url_name="attachment-download",
        filter_backends=[],
        pagination_class=None,
    )
    def attachment_download(
        self, request: Request, pk: str | None = None, attachment_id: str | None = None
    ) -> Any:
        """Download a file. Another tenant's, or a non-public one for a customer, is 404."""
        case = self.get_object()
        attachment = get_object_or_404(self._attachments(request, case), pk=attachment_id)
        stem = Path(attachment.original_name).stem[:100] or f"attachment-{attachment.pk}"
        return protected_file_response(
            attachment.file, kinds=services.ATTACHMENT_KINDS, download_name=stem
        )

    def _attachments(self, request: Request, case: Case) -> QuerySet[Attachment]:
        attachments = Attachment.objects.filter(case=case)
        if not actor(request).is_provider_staff:
            attachments = attachments.filter(public=True)
        return attachments

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "engagement",
                OpenApiTypes.INT,
                required=True,
                description="The engagement (its plan must include case_management).",
            )
        ],
        request=None,
        responses={200: TrendsSerializer, **ERRORS},
    )
    @action(
        detail=False,
        methods=["get"],
        serializer_class=TrendsSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def trends(self, request: Request) -> Response:
        """Opened and closed items per week over the last 12 weeks, by kind and severity, and
        the open items by status (plans with `case_management`; else 403 not_entitled)."""
        raw = request.query_params.get("engagement", "").strip()
        if not raw:
            raise ValidationError({"engagement": [_("Name the engagement.")]})
        if not raw.isdigit():
            raise ValidationError({"engagement": [_("A valid integer is required.")]})
        engagement = get_object_or_404(Engagement.objects.select_related("plan"), pk=int(raw))
        require_entitlement(engagement, FunctionCode.CASE_MANAGEMENT)
        return Response(TrendsSerializer(case_trends(engagement, now=timezone.now())).data)
