"""Inquiries and cases, from raising to resolution: pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.forms import ModelChoiceField
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import sla as cases_sla
from cases.casework import services as casework_services
from cases.casework.forms import (
    AssignForm,
    AttachForm,
    BulkForm,
    CaseForm,
    EscalateForm,
    PriorityForm,
    RcaForm,
    ReplyForm,
    StatusForm,
    raisable_engagements,
)
from cases.casework.models import Attachment, Case, CaseEvent, RootCauseAnalysis
from cases.casework.selectors import (
    CASE_SORTS,
    cap_for,
    case_covers,
    case_ordering,
    case_page,
    case_page_rows,
    case_sort_key,
    cases_in_scope,
    manager_loads,
)
from cases.satisfaction import selectors as satisfaction
from cases.satisfaction.forms import RatingForm
from cases.savedviews import selectors as savedviews_selectors
from cases.savedviews.forms import SavedViewForm
from cases.savedviews.services import clean_query
from engagements import selectors as engagements_selectors
from engagements.business_time import BusinessCalendar
from engagements.catalog.models import Cadence
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.contracts.views import response_target_text
from engagements.entitlements import FunctionCode, is_entitled
from engagements.selectors import engagement_calendars
from portal.accounts.models import User
from portal.api import idempotency
from portal.errors import DomainError
from portal.files import protected_file_response
from portal.filters import ScopedFilterSet
from portal.forms import offer
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, flash_error, get_scoped_or_404

PAGE_SIZE = 50


PREVIEW_LIMIT = 10  # engagements whose due time the form lists (the rest: on selection)


def _case_or_404(pk: int) -> Case:
    """Through the request's scope: not yours and missing look alike."""
    return get_object_or_404(
        cases_in_scope().select_related(
            "engagement__manager", "engagement__deputy", "escalated_by", "first_response_by"
        ),
        pk=pk,
    )


@dataclass(frozen=True)
class Roles:
    staff: bool  # the manager, the deputy or an admin: works the item
    contact: bool  # an active named contact of the engagement: raises, replies, attaches

    @property
    def may_write(self) -> bool:
        return self.staff or self.contact


def _roles(user: User, case: Case) -> Roles:
    staff = engagements_selectors.serves(user, case.engagement)
    return Roles(staff=staff, contact=not staff and is_active_contact(case.engagement, user))


def _detail_url(case: Case, anchor: str = "") -> str:
    url = reverse("case_detail", args=[case.pk])
    return f"{url}#{anchor}" if anchor else url


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


class CasePageFilter(ScopedFilterSet):
    """The list's filters. (The API's `cases.casework.filters.CaseFilter` filters by field
    names; this
    one adds the page's open/closed and queue switches.)"""

    q = django_filters.CharFilter(
        label=gettext_lazy("Subject contains"), field_name="subject", lookup_expr="icontains"
    )
    engagement = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Engagement"),
        queryset=Engagement.objects.all(),
        empty_label=gettext_lazy("All engagements"),
    )
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"),
        choices=Case.Status.choices,
        empty_label=gettext_lazy("Any status"),
    )
    kind = django_filters.ChoiceFilter(
        label=gettext_lazy("Kind"), choices=Case.Kind.choices, empty_label=gettext_lazy("Any kind")
    )
    severity = django_filters.ChoiceFilter(
        label=gettext_lazy("Severity"),
        choices=Case.Severity.choices,
        empty_label=gettext_lazy("Any severity"),
    )
    state = django_filters.ChoiceFilter(
        label=gettext_lazy("Open or closed"),
        choices=[("open", gettext_lazy("Open")), ("closed", gettext_lazy("Resolved or closed"))],
        empty_label=gettext_lazy("Open and closed"),
        method="filter_state",
    )
    queue = django_filters.ChoiceFilter(
        label=gettext_lazy("Assignee"),
        choices=[
            ("mine", gettext_lazy("Assigned to me")),
            ("unassigned", gettext_lazy("Provider queue (unassigned)")),
        ],
        empty_label=gettext_lazy("Anyone"),
        method="filter_queue",
    )

    class Meta:
        model = Case
        fields = ["engagement", "status", "kind", "severity"]

    def __init__(self, *args: Any, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Scoped (as the base class made it), with what the option labels need in one query.
        self.filters["engagement"].queryset = Engagement.objects.select_related(
            "organization", "plan"
        )
        if not staff:
            del self.filters["queue"]

    def filter_state(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        if value == "open":
            return queryset.filter(status__in=Case.OPEN_STATUSES)
        if value == "closed":
            return queryset.exclude(status__in=Case.OPEN_STATUSES)
        return queryset

    def filter_queue(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        if value == "mine":
            return queryset.filter(assignee=self.request.user)
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


def _filter_fields_html(form: forms.Form) -> SafeString:
    """The filter form's labelled fields, as `{{ field }}` of each would render them (same
    markup, ids, selected options and error attributes) without a template per option: Django's
    widget templates were a sixth of the list's time (issue 17). A widget other than a select
    or a text input renders as Django renders it."""
    parts = []
    for bound in form:
        widget = bound.field.widget
        errors = bound.errors
        attrs = ' aria-invalid="true"' if errors else ""
        if errors:
            attrs += f' aria-describedby="{escape(bound.auto_id)}_error"'
        attrs += f' id="{escape(bound.auto_id)}"'
        value = bound.value()
        if type(widget) is forms.Select:
            wanted = "" if value is None else str(value)
            options = []
            picked = False
            for value_, text in bound.field.choices:  # type: ignore[attr-defined]
                choice = str(value_)  # a ModelChoiceIteratorValue for a model's
                selected = not picked and choice == wanted
                picked = picked or selected
                options.append(
                    f'  <option value="{escape(choice)}"{" selected" if selected else ""}>'
                    f"{escape(text)}</option>\n\n"
                )
            html = f'<select name="{escape(bound.html_name)}"{attrs}>\n{"".join(options)}</select>'
        elif type(widget) is forms.TextInput and not widget.attrs:
            shown = "" if value in ("", None) else f' value="{escape(value)}"'
            html = f'<input type="text" name="{escape(bound.html_name)}"{shown}{attrs}>'
        else:
            html = str(bound)
        if errors:
            text = " ".join(str(error) for error in errors)
            html += f'<small class="errorlist">{escape(text)}</small>'
        parts.append(f"\n      <label>{escape(bound.label)}{html}</label>\n    ")
    return mark_safe("".join(parts))  # noqa: S308 (every value above escaped)


@dataclass(frozen=True)
class Column:
    """A header of the case list: sortable when it has a `key`."""

    label: str
    key: str | None = None
    url: str = ""  # the list sorted by this column (the other way when it is the sort)
    aria_sort: str = ""  # "ascending", "descending", or "" when not sorted by it


COLUMNS: tuple[tuple[str | None, Any], ...] = (
    ("subject", gettext_lazy("Item")),
    ("engagement", gettext_lazy("Engagement")),
    ("severity", gettext_lazy("Severity")),
    ("status", gettext_lazy("Status")),
    (None, gettext_lazy("Response")),
    ("raised", gettext_lazy("Raised")),
    ("due", gettext_lazy("Due (your time)")),
    ("assignee", gettext_lazy("Assignee")),
)


def _columns(request: HttpRequest, sort: str, staff: bool) -> list[Column]:
    """The headers, each sort link keeping the filters (and dropping the page)."""
    columns = []
    for key, label in COLUMNS:
        if key == "assignee" and not staff:
            continue
        if key is None:
            columns.append(Column(label=str(label)))
            continue
        query = request.GET.copy()
        query.pop("page", None)
        current = sort in (key, f"-{key}")
        query["sort"] = f"-{key}" if sort == key else key
        aria = ("descending" if sort.startswith("-") else "ascending") if current else ""
        columns.append(
            Column(label=str(label), key=key, url=f"?{query.urlencode()}", aria_sort=aria)
        )
    return columns


@login_required
@require_GET
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Customers: their organizations' items. Managers: one queue across the engagements they
    serve, unanswered first by response due time, with their load against the cap. Admins:
    everything, the managers' loads and the provider queue. Filters, the free-text `q` and the
    sort (`?sort=column`, `-column` descending) live in the URL; a saved view is such a URL, and
    the one marked default opens when the list is asked for without any. Staff tick items and
    assign them or change their status in one go. Constant queries."""
    user: User = request.user
    staff = user.is_provider_staff
    # The user's views (a few, capped) read once: the list shows them, and the default among
    # them opens when the list is asked for without a query.
    saved_views = list(savedviews_selectors.saved_views_of(user))
    default = None if request.GET else next((v for v in saved_views if v.is_default), None)
    if default is not None and default.query:
        return redirect(f"{reverse('case_list')}?{default.query}")
    data = request.GET.copy()
    data.pop("page", None)
    sort = data.pop("sort", [""])[-1]
    sort_error = ""
    # Customers see no assignee column: they cannot sort by it either.
    sortable = set(CASE_SORTS) if staff else set(CASE_SORTS) - {"assignee"}
    if sort and case_sort_key(sort) not in sortable:
        sort_error = _("The list cannot be sorted by “%(sort)s”; it is in its usual order.") % {
            "sort": sort[:40]
        }
        sort = ""
    if staff and "state" not in data:
        data["state"] = "open"  # a queue is of open items unless asked otherwise
    filterset = CasePageFilter(data, queryset=cases_in_scope(), request=request, staff=staff)
    cases = filterset.qs
    if sort:
        cases = cases.order_by(*case_ordering(sort))
    elif staff:
        cases = cases.annotate(
            answered=ExpressionWrapper(
                Q(first_response_at__isnull=False), output_field=BooleanField()
            )
        ).order_by("answered", "response_due_at", "id")
    else:
        cases = cases.order_by("-received_at", "-id")  # the model's, said so for `page_ids`
    # The page's ids first (a narrow sort, each engagement's first rows for the default order),
    # the items counted up to a cap, then its 50 rows with their joins, formatted once.
    now = timezone.now()
    page = case_page(cases, request.GET.get("page"), PAGE_SIZE)
    queue_ids: list[int] = []
    current_query = clean_query(request.GET.urlencode())
    context: dict[str, Any] = {
        "filterset": filterset,
        "filter_fields": _filter_fields_html(filterset.form),
        "filtering": any(request.GET.get(name) for name in filterset.filters),
        "page": page,
        "staff": staff,
        "may_raise": staff or raisable_engagements(user).exists(),
        "sort": sort,
        "sort_error": sort_error,
        "columns": _columns(request, sort, staff),
        "saved_views": saved_views,
        "saved_view_form": SavedViewForm(initial={"query": current_query}),
        "current_query": current_query,
    }
    if staff:
        context["bulk_form"] = BulkForm(auto_id="bulk_%s")
        context["bulk_max"] = casework_services.BULK_MAX_ITEMS
    if user.is_service_manager:
        context["load"] = casework_services.open_case_count(user)
        context["cap"] = cap_for(user)
    if user.is_provider_admin:
        context["managers"], context["cap"] = manager_loads()
        queue = list(
            Case.objects.filter(assignee__isnull=True, status__in=Case.OPEN_STATUSES)
            .order_by("response_due_at", "id")
            .values_list("pk", flat=True)[: PAGE_SIZE + 1]
        )
        queue_ids = queue[:PAGE_SIZE]
        context["provider_queue_more"] = len(queue) > PAGE_SIZE
    page.rows, queue_rows = case_page_rows(page.ids, queue_ids, now=now)
    if user.is_provider_admin:
        context["provider_queue"] = queue_rows
    # A TemplateResponse: the list's live fragment (portal.live) renders one block of it.
    return TemplateResponse(request, "cases/casework/case_list.html", context)


def _back_to_list(request: HttpRequest) -> HttpResponse:
    query = clean_query(request.POST.get("query", ""))
    url = reverse("case_list")
    return redirect(f"{url}?{query}" if query else url)


@login_required
@require_POST
def case_bulk(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The list's bulk action (staff): assign the ticked items or change their status, all or
    nothing, through the same services as one by one. Back to the list with its filters."""
    if not request.user.is_provider_staff:
        raise PermissionDenied
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            " ".join(str(message) for errors in form.errors.values() for message in errors),
        )
        return _back_to_list(request)
    data = form.cleaned_data
    try:
        if data["action"] == "assign":
            count = casework_services.cases_bulk_assign(
                acting_user=request.user, ids=data["ids"], assignee=data["assignee"]
            )
        else:
            count = casework_services.cases_bulk_set_status(
                acting_user=request.user, ids=data["ids"], status=data["status"]
            )
    except DomainError as error:
        flash_error(request, error)
        return _back_to_list(request)
    if data["action"] == "status":
        text = ngettext(
            "%(count)d item is now %(status)s.",
            "%(count)d items are now %(status)s.",
            count,
        ) % {"count": count, "status": str(Case.Status(data["status"]).label).lower()}
    elif data["assignee"] is None:
        text = ngettext(
            "%(count)d item is in the provider queue.",
            "%(count)d items are in the provider queue.",
            count,
        ) % {"count": count}
    else:
        text = ngettext(
            "%(count)d item assigned to %(person)s.",
            "%(count)d items assigned to %(person)s.",
            count,
        ) % {"count": count, "person": data["assignee"]}
    messages.success(request, text)
    return _back_to_list(request)


@dataclass(frozen=True)
class DuePreview:
    """The response objective of an engagement and the due time of an item raised now."""

    engagement: Engagement
    target: str
    due_at: datetime


def due_preview(
    engagement: Engagement, now: datetime, calendar: BusinessCalendar | None = None
) -> DuePreview:
    _reminder, due_at = cases_sla.response_deadlines(engagement, now, calendar)
    return DuePreview(
        engagement=engagement,
        target=response_target_text(engagement.plan.response_target_business_days),
        due_at=due_at,
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Named contacts raise items on their engagements; staff on the engagements they serve
    (and may backdate imports). The form shows the due time each engagement would give."""
    user: User = request.user
    form = CaseForm(request.POST or None, request.FILES or None, acting_user=user)
    raisable = cast(ModelChoiceField, form.fields["engagement"]).queryset
    assert raisable is not None  # CaseForm sets it
    choices = list(raisable)
    offer(form.fields["engagement"], choices)  # its options: not read again to render them
    if not choices and not user.is_provider_staff:
        raise PermissionDenied  # members, and contacts of no current engagement
    if len(choices) == 1 and not form.is_bound:
        form.fields["engagement"].initial = choices[0].pk
    # The form carries a one-time token: a second submission of it (a double click, a resent
    # POST) shows the item the first one raised instead of raising another.
    form_key = idempotency.form_key(request, "case_create")
    if (first := idempotency.form_replay(request, form_key)) is not None:
        messages.info(request, _("This form was already sent; here is the item it raised."))
        return redirect(first)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                claimed = idempotency.form_claim(request, form_key) if form_key else None
                case = casework_services.case_raise_with_files(
                    acting_user=user,
                    engagement=data["engagement"],
                    kind=data["kind"],
                    severity=data["severity"],
                    subject=data["subject"],
                    description=data["description"],
                    received_at=data.get("received_at"),
                    uploads=[data["file"]] if data["file"] else [],
                )
                if claimed is not None:
                    idempotency.form_complete(claimed, reverse("case_detail", args=[case.pk]))
        except idempotency.Replay as replay:  # the first submission committed meanwhile
            messages.info(request, _("This form was already sent; here is the item it raised."))
            return redirect(replay.record.location)
        except DomainError as error:
            apply_domain_error(form, error, refusal_page=True)
        else:
            messages.success(
                request,
                _("#%(id)s raised. A response is due by %(due)s (your time).")
                % {
                    "id": case.pk,
                    "due": date_format(timezone.localtime(case.response_due_at), "DATETIME_FORMAT"),
                },
            )
            return redirect("case_detail", pk=case.pk)
    now = timezone.now()
    selected_pk = form["engagement"].value()
    selected = next((e for e in choices if str(e.pk) == str(selected_pk)), None)
    calendars = engagement_calendars(choices[:PREVIEW_LIMIT])  # two queries, not two each
    return render(
        request,
        "cases/casework/case_form.html",
        {
            "form": form,
            "form_token": idempotency.form_token(request),
            "previews": [
                due_preview(engagement, now, calendars[engagement.pk])
                for engagement in choices[:PREVIEW_LIMIT]
            ],
            "preview": due_preview(selected, now, calendars.get(selected.pk)) if selected else None,
        },
    )


@login_required
@require_GET
def case_due_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The fragment the form swaps in (htmx) when the engagement changes."""
    engagement = get_scoped_or_404(Engagement, pk=request.GET.get("engagement"))
    if not raisable_engagements(request.user).filter(pk=engagement.pk).exists():
        raise PermissionDenied
    return render(
        request,
        "cases/casework/_due_preview.html",
        {"preview": due_preview(engagement, timezone.now())},
    )


@dataclass
class TimelineEntry:
    event: CaseEvent
    summary: str
    attachment: Attachment | None = None


def _status_label(value: Any) -> str:
    return str(Case.Status(value).label) if value in Case.Status.values else str(value or "")


def _timeline(
    events: list[CaseEvent], attachments: dict[Any, Attachment], people: dict[Any, User]
) -> list[TimelineEntry]:
    """Each event with a one-line summary (the body shows below it)."""
    entries = []
    for event in events:
        data = event.data or {}
        attachment = None
        if event.kind == CaseEvent.Kind.CREATED:
            summary = _("raised the item")
        elif event.kind == CaseEvent.Kind.RESPONSE:
            summary = _("responded")
        elif event.kind == CaseEvent.Kind.COMMENT:
            summary = _("commented") if event.public else _("added an internal note")
        elif event.kind == CaseEvent.Kind.STATUS:
            summary = _("changed the status from %(old)s to %(new)s") % {
                "old": _status_label(data.get("frm")),
                "new": _status_label(data.get("to")),
            }
        elif event.kind == CaseEvent.Kind.ASSIGNMENT:
            to = people.get(data.get("to")) if data.get("to") else None
            summary = (
                _("assigned the item to %(person)s") % {"person": to}
                if to
                else _("left the item in the provider queue")
            )
        elif event.kind == CaseEvent.Kind.ESCALATION:
            summary = _("escalated the item")
        elif event.kind == CaseEvent.Kind.PRIORITY:
            summary = (
                _("set the priority to %(priority)s") % {"priority": data["to"]}
                if data.get("to")
                else _("cleared the priority")
            )
        elif event.kind == CaseEvent.Kind.ATTACHMENT:
            attachment = attachments.get(data.get("attachment"))
            summary = _("attached a file")
        elif event.kind == CaseEvent.Kind.RCA:
            summary = _("recorded the root cause analysis")
        else:
            summary = event.get_kind_display()
        entries.append(TimelineEntry(event=event, summary=str(summary), attachment=attachment))
    return entries


def _status_actions(case: Case, roles: Roles) -> list[tuple[str, str]]:
    """(status, button label) of the moves this viewer may make now."""
    if roles.staff:
        targets = casework_services.TRANSITIONS.get(case.status, ())
    elif roles.contact and case.status in (Case.Status.RESOLVED, Case.Status.CLOSED):
        targets = (
            (Case.Status.CLOSED, Case.Status.IN_PROGRESS)
            if case.status == Case.Status.RESOLVED
            else (Case.Status.IN_PROGRESS,)
        )
    else:
        targets = ()
    labels: dict[str, str] = {
        Case.Status.RESOLVED: _("Resolve"),
        Case.Status.AWAITING_CUSTOMER: _("Awaiting customer"),
        Case.Status.IN_PROGRESS: _("In progress"),
        Case.Status.CLOSED: _("Close"),
    }
    reopening = case.status in (Case.Status.RESOLVED, Case.Status.CLOSED)
    return [
        (
            target,
            str(_("Reopen") if reopening and target == Case.Status.IN_PROGRESS else labels[target]),
        )
        for target in targets
    ]


def _rca_methods(engagement: Engagement) -> list[str]:
    return (
        Cadence.objects.filter(
            plan=engagement.plan, deliverable__code=FunctionCode.ROOT_CAUSE_ANALYSIS
        )
        .values_list("methods", flat=True)
        .first()
        or []
    )


def _detail_context(request: AuthenticatedHttpRequest, case: Case, **forms: Any) -> dict[str, Any]:
    """Everything the item's page shows to this viewer, in constant queries."""
    user: User = request.user
    engagement = case.engagement
    roles = _roles(user, case)
    events = CaseEvent.objects.filter(case=case).select_related("actor")
    attachments = Attachment.objects.filter(case=case).select_related("uploaded_by")
    if not roles.staff:  # customers never see internal notes or files
        events = events.filter(public=True)
        attachments = attachments.filter(public=True)
    events_list = list(events)
    attachments_list = list(attachments)
    people: dict[int, User] = {}
    if roles.staff:
        ids = {
            event.data.get("to")
            for event in events_list
            if event.kind == CaseEvent.Kind.ASSIGNMENT and event.data.get("to")
        }
        people = User.objects.in_bulk(ids) if ids else {}
    needs_rca = case.kind == Case.Kind.INCIDENT and case.severity == Case.Severity.CRITICAL
    rca = RootCauseAnalysis.objects.filter(case=case).select_related("author").first()
    entitled = {
        code: is_entitled(engagement, code)
        for code in (
            FunctionCode.ESCALATION_MANAGEMENT,
            FunctionCode.CASE_MANAGEMENT,
            FunctionCode.ROOT_CAUSE_ANALYSIS,
        )
    }
    context: dict[str, Any] = {
        "case": case,
        "engagement": engagement,
        "roles": roles,
        "timeline": _timeline(
            events_list, {attachment.pk: attachment for attachment in attachments_list}, people
        ),
        "attachments": attachments_list,
        "rca": rca,
        "cover": case_covers([case], timezone.now()).get(case.pk),
        "needs_rca": needs_rca,
        "entitled": entitled,
        "status_actions": _status_actions(case, roles),
        "may_escalate": entitled[FunctionCode.ESCALATION_MANAGEMENT]
        and roles.may_write
        and case.is_open
        and case.escalated_at is None,
    }
    if roles.may_write:
        context["reply_form"] = forms.get("reply_form") or ReplyForm(staff=roles.staff)
        context["attach_form"] = forms.get("attach_form") or AttachForm(staff=roles.staff)
    if context["may_escalate"]:
        context["escalate_form"] = EscalateForm()
    _rating_context(context, user, case, forms.get("rating_form"))
    if roles.staff:
        context["assign_form"] = forms.get("assign_form") or AssignForm(
            case=case, initial={"assignee": case.assignee_id}
        )
        if entitled[FunctionCode.CASE_MANAGEMENT]:
            context["priority_form"] = PriorityForm(initial={"priority": case.priority})
        if needs_rca and rca is None and entitled[FunctionCode.ROOT_CAUSE_ANALYSIS]:
            context["rca_form"] = forms.get("rca_form") or RcaForm(methods=_rca_methods(engagement))
    return context


def _rating_context(
    context: dict[str, Any], user: User, case: Case, form: RatingForm | None
) -> None:
    """The customer's rating of a resolved or closed item: shown to everyone who sees the
    item; the form to its customer while the rating may still be given or changed."""
    if case.status not in satisfaction.RATABLE_STATUSES:
        return
    rating = satisfaction.rating_of(case)
    context["rating"] = rating
    if not satisfaction.may_rate(user, case):
        return
    if rating is not None:
        context["rating_editable_until"] = satisfaction.editable_until(rating)
        if timezone.now() > context["rating_editable_until"]:
            return
    context["rating_form"] = form or RatingForm(
        initial={"score": rating.score, "comment": rating.comment} if rating else None
    )


def _detail(
    request: AuthenticatedHttpRequest, case: Case, status: int = 200, **forms: Any
) -> HttpResponse:
    context = _detail_context(request, case, **forms)
    return render(request, "cases/casework/case_detail.html", context, status=status)


# What the case's other features (cases.satisfaction) answer their forms with.
case_or_404 = _case_or_404
case_detail_page = _detail
detail_url = _detail_url


@login_required
@require_GET
def case_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _case_or_404(pk))


@login_required
@require_POST
def case_reply(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A comment; a public one by provider staff (manager, deputy or an admin) is a response,
    and the first response stops the clock.
    With htmx, answers the conversation (and the header, out of band) instead of redirecting."""
    case = _case_or_404(pk)
    roles = _roles(request.user, case)
    if not roles.may_write:
        raise PermissionDenied
    form = ReplyForm(request.POST, staff=roles.staff)
    if form.is_valid():
        try:
            event = casework_services.case_comment(
                acting_user=request.user,
                case=case,
                body=form.cleaned_data["body"],
                public=not form.cleaned_data.get("internal", False),
            )
        except DomainError as error:
            apply_domain_error(form, error, refusal_page=True)
        else:
            case = _case_or_404(pk)
            if _is_htmx(request):
                return render(
                    request, "cases/casework/_reply_result.html", _detail_context(request, case)
                )
            messages.success(request, _("Your reply was added."))
            return redirect(_detail_url(case, f"event-{event.pk}"))
    if _is_htmx(request):
        return render(
            request,
            "cases/casework/_reply_result.html",
            _detail_context(request, case, reply_form=form),
        )
    return _detail(request, case, reply_form=form)


@login_required
@require_POST
def case_attach(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    roles = _roles(request.user, case)
    if not roles.may_write:
        raise PermissionDenied
    form = AttachForm(request.POST, request.FILES, staff=roles.staff)
    if form.is_valid():
        try:
            casework_services.case_attach(
                acting_user=request.user,
                case=case,
                upload=form.cleaned_data["file"],
                public=not form.cleaned_data.get("internal", False),
            )
        except DomainError as error:
            apply_domain_error(form, error, refusal_page=True)
        else:
            messages.success(request, _("File attached."))
            return redirect(_detail_url(case, "attachments"))
    return _detail(request, case, attach_form=form)


@login_required
@require_GET
def case_attachment_download(
    request: AuthenticatedHttpRequest, pk: int, attachment_pk: int
) -> FileResponse:
    """A file of the item; customers get only the public ones (others answer 404)."""
    case = _case_or_404(pk)
    attachment = get_scoped_or_404(Attachment, pk=attachment_pk, case=case)
    if not attachment.public and not engagements_selectors.serves(request.user, case.engagement):
        raise Http404  # exactly as a missing one
    name = slugify(Path(attachment.original_name).stem, allow_unicode=True)
    return protected_file_response(
        attachment.file,
        kinds=casework_services.ATTACHMENT_KINDS,
        download_name=name or f"attachment-{attachment.pk}",
    )


@login_required
@require_POST
def case_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    roles = _roles(request.user, case)
    if not roles.may_write:
        raise PermissionDenied
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
        return redirect(_detail_url(case, "actions"))
    try:
        case = casework_services.case_set_status(
            acting_user=request.user,
            case=case,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        flash_error(request, error, with_detail=True, refusal_page=True)
        return redirect(_detail_url(case, "actions"))
    messages.success(
        request, _("The item is now %(status)s.") % {"status": case.get_status_display().lower()}
    )
    return redirect(_detail_url(case))


@login_required
@require_POST
def case_assign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    if not engagements_selectors.serves(request.user, case.engagement):
        raise PermissionDenied
    form = AssignForm(request.POST, case=case)
    if not form.is_valid():
        # Only the engagement's manager and deputy are offered; anyone else is a form error.
        return _detail(request, case, assign_form=form, status=400)
    assignee = form.cleaned_data["assignee"]
    try:
        casework_services.case_assign(acting_user=request.user, case=case, assignee=assignee)
    except DomainError as error:
        if isinstance(error, casework_services.ManagerCaseCapReached):
            # The cap's refusal names the cap and where the item may go instead.
            messages.error(request, error.detail)
            return redirect(_detail_url(case, "assign"))
        apply_domain_error(form, error, refusal_page=True)
        return _detail(request, case, assign_form=form, status=400)
    if assignee is None:
        messages.success(request, _("The item is in the provider queue."))
    else:
        messages.success(request, _("Assigned to %(person)s.") % {"person": assignee})
    return redirect(_detail_url(case))


@login_required
@require_POST
def case_escalate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    roles = _roles(request.user, case)
    if not roles.may_write:
        raise PermissionDenied
    form = EscalateForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        casework_services.case_escalate(acting_user=request.user, case=case, reason=reason)
    except DomainError as error:
        flash_error(request, error, with_detail=True, refusal_page=True)
        return redirect(_detail_url(case, "actions"))
    messages.success(
        request, _("Escalated: the service manager and the provider's admins are notified.")
    )
    return redirect(_detail_url(case))


@login_required
@require_POST
def case_priority(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    if not engagements_selectors.serves(request.user, case.engagement):
        raise PermissionDenied
    form = PriorityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Priority is 1 (highest) to 5."))
        return redirect(_detail_url(case, "priority"))
    try:
        case = casework_services.case_set_priority(
            acting_user=request.user, case=case, priority=form.cleaned_data["priority"]
        )
    except DomainError as error:
        flash_error(request, error, with_detail=True, refusal_page=True)
        return redirect(_detail_url(case, "priority"))
    messages.success(request, _("Priority saved."))
    return redirect(_detail_url(case))


@login_required
@require_POST
def case_rca(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    if not engagements_selectors.serves(request.user, case.engagement):
        raise PermissionDenied
    form = RcaForm(request.POST, methods=_rca_methods(case.engagement))
    if form.is_valid():
        try:
            casework_services.case_record_rca(
                acting_user=request.user, case=case, **form.cleaned_data
            )
        except DomainError as error:
            apply_domain_error(form, error, refusal_page=True)
        else:
            messages.success(request, _("Root cause analysis recorded."))
            return redirect(_detail_url(case, "rca"))
    return _detail(request, case, rca_form=form)
