"""Inquiries and cases, from raising to resolution: writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeGuard, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.casework.models import Attachment, Case, CaseEvent, RootCauseAnalysis
from cases.mailin.outbound import case_thread
from cases.sla import response_deadlines
from engagements.absences.selectors import responsible_manager, with_cover
from engagements.catalog.models import Cadence
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.selectors import require_in_term, serves
from portal.accounts.models import User
from portal.audit import audit
from portal.errors import Conflict, DomainError, InvalidInput, NotAllowed, error_text
from portal.files import IMAGES, PDF, FileKind, check_upload
from portal.locks import atomic_retried, lock_rows, lock_users, locked_again
from portal.notifications import notify, provider_admins
from portal.tenancy.scoping import count_compiled_once, unscoped
from portal.webhooks.events import emit

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


ZIP = FileKind("zip", "application/zip", (b"PK\x03\x04",))


ATTACHMENT_KINDS = (*IMAGES, PDF, ZIP)


TRANSITIONS: dict[str, tuple[str, ...]] = {
    Case.Status.NEW: (Case.Status.IN_PROGRESS, Case.Status.AWAITING_CUSTOMER, Case.Status.RESOLVED),
    Case.Status.RESPONDED: (
        Case.Status.IN_PROGRESS,
        Case.Status.AWAITING_CUSTOMER,
        Case.Status.RESOLVED,
    ),
    Case.Status.IN_PROGRESS: (Case.Status.AWAITING_CUSTOMER, Case.Status.RESOLVED),
    Case.Status.AWAITING_CUSTOMER: (Case.Status.IN_PROGRESS, Case.Status.RESOLVED),
    Case.Status.RESOLVED: (Case.Status.CLOSED, Case.Status.IN_PROGRESS),
    Case.Status.CLOSED: (Case.Status.IN_PROGRESS,),  # reopen
}


NOT_SERVING = gettext_lazy(
    "Assign the item to the engagement's manager or deputy, or leave it in the provider queue."
)


class ManagerCaseCapReached(Conflict):
    code = "manager_case_cap_reached"


def _event(
    case: Case,
    kind: str,
    actor: User | None,
    *,
    body: str = "",
    public: bool = True,
    **data: object,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, kind=kind, actor=actor, body=body, public=public, data=data
    )


# What the audit trail records of an item (SPEC: who changed what, before and after); the
# timeline (CaseEvent) is what the customer reads, the audit trail is the record.
AUDITED_FIELDS = (
    "status",
    "assignee",
    "priority",
    "escalated_at",
    "escalated_by",
    "first_response_at",
    "first_response_by",
    "resolved_at",
    "closed_at",
)


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _state(case: Case) -> dict[str, object]:
    """The audited fields of an item as plain JSON values (users by id)."""
    return {
        name: _plain(getattr(case, cast(models.Field, Case._meta.get_field(name)).attname))
        for name in AUDITED_FIELDS
    }


def _audit_case(
    acting_user: User | None,
    action: str,
    case: Case,
    before: dict[str, object] | None,
    **added: object,
) -> None:
    """One audit entry for a change of an item: the fields that changed since `before` (None:
    the item is new), and what the change added (`added`, e.g. the comment's event)."""
    after = _state(case)
    if before is None:
        changed = {name: value for name, value in after.items() if value is not None}
    else:
        changed = {name: value for name, value in after.items() if before[name] != value}
    if not changed and not added:
        return
    audit(
        actor=acting_user,
        action=action,
        instance=case,
        before=None if before is None else {name: before[name] for name in changed} or None,
        after={**changed, **added},
        organization_id=case.engagement.organization_id,
    )


def _case_url(case: Case) -> str:
    return f"/cases/{case.pk}/"


def _open_items() -> QuerySet[Case]:
    return unscoped(
        Case, "the 30-item cap counts a manager's items across all engagements (SPEC §3)"
    ).filter(status__in=Case.OPEN_STATUSES)


def open_case_count(manager: User) -> int:
    """Open items assigned to the manager across all engagements (a count, no tenant data),
    compiled once: the board and the queue show it on every request."""
    return count_compiled_once(
        f"cases.open_count:{manager.pk}", lambda _values: _open_items().filter(assignee=manager), []
    )


def open_items_of_assignee() -> Coalesce:
    """`open_case_count` of each user of a `User` queryset, in the same query:
    `.annotate(open_items=open_items_of_assignee())`. Across all engagements, like the cap (a
    join to `assigned_cases` would count every tenant's items without saying so)."""
    counted = (
        _open_items()
        .filter(assignee=OuterRef("pk"))
        .order_by()
        .values("assignee")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def assignable(engagement: Engagement) -> list[User]:
    """Who may hold the engagement's items: its manager and its deputy, while active (SPEC §5:
    an item goes to one of them or stays in the provider queue). Anyone else could not see the
    item, yet would get its subject by notification and carry it against their cap."""
    people = [engagement.manager, engagement.deputy]
    return [person for person in people if person is not None and person.is_active]


def may_hold(engagement: Engagement, user: User) -> bool:
    return user.is_active and user.pk in (engagement.manager_id, engagement.deputy_id)


def _has_room(manager: User | None, cap: int) -> TypeGuard[User]:
    """Whether the manager may take one more open item. Locks the manager's row, so
    assignments to one manager serialize and the cap holds under concurrency; a caller that
    may try more than one manager locks them all first, in id order (`lock_users`)."""
    if manager is None or not manager.is_active:
        return False
    lock_users([manager])
    return open_case_count(manager) < cap


@atomic_retried
def case_raise(
    *,
    acting_user: User,
    engagement: Engagement,
    kind: str,
    severity: int,
    subject: str,
    description: str = "",
    received_at: datetime | None = None,
    by_email: bool = False,
) -> Case:
    """Raise an item; its response objective is fixed now from the plan and the calendar.

    Assigned to the responsible manager (the deputy while the manager is absent), else to the
    other of the two, else left in the provider queue when both are at their cap.

    `received_at` is set by provider staff (importing history), or by the portal's own mail
    intake (`by_email`, cases.mailin): the time the message reached us, which the sender cannot
    choose.
    """
    staff = serves(acting_user, engagement)
    if not staff and not is_active_contact(engagement, acting_user):
        raise NotAllowed(_("Only the engagement's named contacts can raise items."))
    require_in_term(acting_user, engagement)
    now = timezone.now()
    if received_at is not None and not staff and not by_email:
        raise InvalidInput(fields={"received_at": [_("Only provider staff may set the time.")]})
    received_at = received_at or now
    errors: dict[str, list[str]] = {}
    if kind not in Case.Kind.values:
        errors["kind"] = [_("Choose inquiry, incident or service request.")]
    if severity not in Case.Severity.values:
        errors["severity"] = [_("Severity is 0 (critical outage) to 3.")]
    if not subject.strip():
        errors["subject"] = [_("Give the item a subject.")]
    if received_at > now:
        errors["received_at"] = [_("The receipt time cannot be in the future.")]
    if errors:
        raise InvalidInput(fields=errors)
    reminder_due_at, response_due_at = response_deadlines(engagement, received_at)
    case = Case.objects.create(
        engagement=engagement,
        kind=kind,
        severity=severity,
        subject=subject.strip(),
        description=description,
        received_at=received_at,
        response_due_at=response_due_at,
        reminder_due_at=reminder_due_at,
        raised_by=acting_user,
    )
    _event(case, CaseEvent.Kind.CREATED, acting_user, body=description)
    cap = engagement.plan.max_open_cases_per_manager
    first = responsible_manager(engagement, received_at)
    second = engagement.deputy if first == engagement.manager else engagement.manager
    # Both rows at once in id order: one by one (manager, then deputy) two engagements with
    # the two swapped would lock in opposite orders and deadlock.
    lock_users([candidate for candidate in (first, second) if candidate and candidate.is_active])
    for candidate in (first, second):
        if _has_room(candidate, cap):
            case.assignee = candidate
            case.save(update_fields=["assignee", "updated_at"])
            _event(case, CaseEvent.Kind.ASSIGNMENT, None, public=False, to=candidate.pk)
            break
    else:
        _event(
            case,
            CaseEvent.Kind.ASSIGNMENT,
            None,
            public=False,
            to=None,
            note="both at their cap: provider queue",
        )
    _audit_case(
        acting_user,
        "case.raise",
        case,
        None,
        kind=case.kind,
        severity=case.severity,
        subject=case.subject,
        received_at=received_at.isoformat(),
        response_due_at=response_due_at.isoformat(),
        **({"channel": "email"} if by_email else {}),
    )
    recipients = with_cover(engagement, [case.assignee]) if case.assignee else provider_admins()
    notify(
        users=recipients,
        kind="case.raised",
        key=f"case:{case.pk}:raised",
        url=_case_url(case),
        thread=case_thread(case.pk),
        engagement=engagement,
        render=lambda: (
            _("New %(kind)s #%(id)s (severity %(severity)s): %(subject)s")
            % {
                "kind": case.get_kind_display().lower(),
                "id": case.pk,
                "severity": case.severity,
                "subject": case.subject,
            },
            case.description,
        ),
    )
    emit("case.created", case)
    return case


def _locked(case: Case) -> Case:
    return locked_again(case, "engagement__plan", "engagement__manager", "engagement__deputy")


@transaction.atomic
def case_comment(*, acting_user: User, case: Case, body: str, public: bool = True) -> CaseEvent:
    """A comment on the timeline; customers' are always public. A public comment by the
    provider's side (the manager, the deputy, or an admin acting for them) is a response: the
    first one stops the response clock. A customer's reply notifies the item's holder (the
    manager when in the queue) and, while they are away, whoever covers for them."""
    case = _locked(case)
    engagement = case.engagement
    staff = serves(acting_user, engagement)
    if not staff and not is_active_contact(engagement, acting_user):
        raise NotAllowed(_("Only named contacts and the engagement's staff can comment."))
    if not body.strip():
        raise InvalidInput(fields={"body": [_("Write something.")]})
    if not staff:
        public = True
    is_response = staff and public
    before = _state(case)
    event = _event(
        case,
        CaseEvent.Kind.RESPONSE if is_response else CaseEvent.Kind.COMMENT,
        acting_user,
        body=body.strip(),
        public=public,
    )
    if is_response and case.first_response_at is None:
        case.first_response_at = event.created_at
        case.first_response_by = acting_user
        if case.status == Case.Status.NEW:
            case.status = Case.Status.RESPONDED
        case.save(update_fields=["first_response_at", "first_response_by", "status", "updated_at"])
    if not staff and case.status == Case.Status.AWAITING_CUSTOMER:
        case.status = Case.Status.IN_PROGRESS
        case.save(update_fields=["status", "updated_at"])
        _event(case, CaseEvent.Kind.STATUS, None, frm="awaiting_customer", to="in_progress")
    _audit_case(
        acting_user,
        "case.respond" if is_response else "case.comment",
        case,
        before,
        event=event.pk,
        public=public,
    )
    if public:
        others = (
            [case.raised_by]
            if staff
            else with_cover(engagement, [case.assignee or engagement.manager])
        )
        notify(
            users=[user for user in others if user and user != acting_user],
            kind="case.comment",
            key=f"case:{case.pk}:event:{event.pk}",
            url=_case_url(case),
            thread=case_thread(case.pk),
            engagement=engagement,
            render=lambda: (
                _("New reply on #%(id)s: %(subject)s") % {"id": case.pk, "subject": case.subject},
                event.body,
            ),
        )
    emit(
        "case.commented",
        case,
        internal=not public,
        extra={
            "comment": {
                "id": event.pk,
                "body": event.body,
                "public": public,
                "author": acting_user.pk,
                "created_at": event.created_at,
            }
        },
    )
    if is_response:
        emit("case.responded", case)
    return event


@transaction.atomic
def case_respond(*, acting_user: User, case: Case, body: str) -> CaseEvent:
    """A public response by the engagement's manager, its deputy or a provider admin; the
    first one stops the clock (and records who answered)."""
    case = _locked(case)
    if acting_user.pk not in (case.engagement.manager_id, case.engagement.deputy_id) and not (
        acting_user.is_provider_admin
    ):
        raise NotAllowed(_("Only the engagement's manager or deputy responds."))
    return case_comment(acting_user=acting_user, case=case, body=body, public=True)


@atomic_retried
def case_set_status(*, acting_user: User, case: Case, status: str, note: str = "") -> Case:
    """Move along new → responded → in progress ⇄ awaiting customer → resolved → closed;
    resolved or closed items may be reopened. A severity-0 incident needs an RCA to close."""
    case = _locked(case)
    engagement = case.engagement
    staff = serves(acting_user, engagement)
    contact = is_active_contact(engagement, acting_user)
    if not staff and not (
        contact
        and status in (Case.Status.CLOSED, Case.Status.IN_PROGRESS)
        and case.status in (Case.Status.RESOLVED, Case.Status.CLOSED)
    ):
        raise NotAllowed(_("You cannot change this item's status."))
    if status not in TRANSITIONS.get(case.status, ()):
        raise InvalidInput(
            fields={
                "status": [
                    _("An item that is %(current)s cannot become %(new)s.")
                    % {
                        "current": case.get_status_display().lower(),
                        "new": str(Case.Status(status).label).lower()
                        if status in Case.Status.values
                        else status,
                    }
                ]
            }
        )
    if (
        status == Case.Status.CLOSED
        and case.kind == Case.Kind.INCIDENT
        and case.severity == 0
        and not RootCauseAnalysis.objects.filter(case=case).exists()
    ):
        raise Conflict(
            _("A severity-0 incident cannot be closed without a root cause analysis."),
            fields={"rca": [_("Record the root cause analysis first.")]},
        )
    previous = case.status
    before = _state(case)
    now = timezone.now()
    case.status = status
    if status == Case.Status.RESOLVED:
        case.resolved_at = now
    elif status == Case.Status.CLOSED:
        case.closed_at = now
        case.resolved_at = case.resolved_at or now
    elif previous in (Case.Status.RESOLVED, Case.Status.CLOSED):
        case.resolved_at = case.closed_at = None
    reopened = status in Case.OPEN_STATUSES and previous not in Case.OPEN_STATUSES
    # Reopening puts the item back on the assignee's load: the cap applies again.
    dropped = None
    if (
        reopened
        and case.assignee_id
        and (
            not may_hold(engagement, cast(User, case.assignee))
            or not _has_room(case.assignee, engagement.plan.max_open_cases_per_manager)
        )
    ):
        dropped, case.assignee = case.assignee_id, None
    case.save()
    _event(case, CaseEvent.Kind.STATUS, acting_user, body=note, frm=previous, to=status)
    if dropped is not None:
        _event(
            case,
            CaseEvent.Kind.ASSIGNMENT,
            None,
            public=False,
            frm=dropped,
            to=None,
            note="the assignee is at the cap or no longer serves: provider queue",
        )
    _audit_case(acting_user, "case.status", case, before)
    if staff and status in (Case.Status.RESOLVED, Case.Status.AWAITING_CUSTOMER):
        notify(
            users=[case.raised_by],
            kind=f"case.{status}",
            key=f"case:{case.pk}:{status}:{now}",
            url=_case_url(case),
            thread=case_thread(case.pk),
            engagement=engagement,
            render=lambda: (
                _("#%(id)s is %(status)s: %(subject)s")
                % {
                    "id": case.pk,
                    "status": case.get_status_display().lower(),
                    "subject": case.subject,
                },
                _resolution_body(case, note) if status == Case.Status.RESOLVED else note,
            ),
        )
    emit("case.updated", case)
    if status == Case.Status.RESOLVED:
        emit("case.resolved", case)
    return case


def _resolution_body(case: Case, note: str) -> str:
    """The resolution's note, and where the customer rates it (cases.satisfaction)."""
    invitation = _("How did we do? Rate the resolution from 1 to 5: %(url)s") % {
        "url": f"{settings.SITE_URL}{_case_url(case)}#rating"
    }
    return f"{note}\n\n{invitation}" if note else invitation


def case_resolve(*, acting_user: User, case: Case, note: str = "") -> Case:
    return case_set_status(
        acting_user=acting_user, case=case, status=Case.Status.RESOLVED, note=note
    )


@atomic_retried
def case_assign(*, acting_user: User, case: Case, assignee: User | None) -> Case:
    """Assign to the engagement's manager or deputy (None: the provider queue); anyone else is
    refused on `assignee`. Refused with `manager_case_cap_reached` when they already hold the
    plan's cap of open items across all engagements."""
    case = _locked(case)
    engagement = case.engagement
    if not serves(acting_user, engagement):
        raise NotAllowed(_("Only the engagement's manager, deputy or an admin assigns items."))
    if assignee is not None:
        if not may_hold(engagement, assignee):
            raise InvalidInput(fields={"assignee": [NOT_SERVING]})
        cap = engagement.plan.max_open_cases_per_manager
        if assignee.pk != case.assignee_id and case.is_open and not _has_room(assignee, cap):
            raise ManagerCaseCapReached(
                _(
                    "%(name)s already manages %(cap)d open items, the most one manager may hold. "
                    "Assign it to the deputy or leave it in the provider queue."
                )
                % {"name": assignee, "cap": cap},
                fields={"assignee": [_("At the cap of %(cap)d open items.") % {"cap": cap}]},
            )
    previous = case.assignee_id
    before = _state(case)
    case.assignee = assignee
    case.save(update_fields=["assignee", "updated_at"])
    _audit_case(acting_user, "case.assign", case, before)
    _event(
        case,
        CaseEvent.Kind.ASSIGNMENT,
        acting_user,
        public=False,
        frm=previous,
        to=assignee.pk if assignee else None,
    )
    if assignee is not None:
        _notify_assigned(case, assignee, acting_user)
    emit("case.updated", case)
    return case


def _notify_assigned(case: Case, assignee: User, acting_user: User) -> None:
    """Tell the new assignee and, while they are away, whoever covers for them (not the one
    who assigned it)."""
    key = f"case:{case.pk}:assigned:{assignee.pk}:{timezone.now().timestamp()}"
    covers = [
        person
        for person in with_cover(case.engagement, [assignee])
        if person not in (assignee, acting_user)
    ]
    if assignee != acting_user:
        notify(
            users=[assignee],
            kind="case.assigned",
            key=key,
            url=_case_url(case),
            thread=case_thread(case.pk),
            engagement=case.engagement,
            render=lambda: (
                _("#%(id)s was assigned to you: %(subject)s")
                % {"id": case.pk, "subject": case.subject},
                "",
            ),
        )
    notify(
        users=covers,
        kind="case.assigned",
        key=key,
        url=_case_url(case),
        thread=case_thread(case.pk),
        engagement=case.engagement,
        render=lambda: (
            _("#%(id)s was assigned to %(person)s, who is away; you cover: %(subject)s")
            % {"id": case.pk, "person": assignee, "subject": case.subject},
            "",
        ),
    )


@transaction.atomic
def cases_release_from_former_staff(*, engagement_id: int) -> int:
    """After the engagement's manager or deputy changed: its open items held by someone who no
    longer serves it go back to the provider queue (they could no longer see them, yet would
    carry them against their cap and get their reminders). Returns how many were released."""
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is None:
        return 0
    held = list(
        Case.objects.select_for_update()
        .filter(engagement=engagement, status__in=Case.OPEN_STATUSES, assignee__isnull=False)
        .exclude(assignee_id__in=[engagement.manager_id, engagement.deputy_id])
        .order_by("pk")
    )
    for case in held:
        before = _state(case)
        previous = case.assignee_id
        case.assignee = None
        case.save(update_fields=["assignee", "updated_at"])
        _audit_case(None, "case.assign", case, before)
        _event(case, CaseEvent.Kind.ASSIGNMENT, None, public=False, frm=previous, to=None)
    return len(held)


@transaction.atomic
def case_escalate(*, acting_user: User, case: Case, reason: str = "") -> Case:
    """Escalate where the plan includes escalation management; notifies manager and admins."""
    case = _locked(case)
    engagement = case.engagement
    require_entitlement(engagement, FunctionCode.ESCALATION_MANAGEMENT)
    if not serves(acting_user, engagement) and not is_active_contact(engagement, acting_user):
        raise NotAllowed(_("Only named contacts and the engagement's staff can escalate."))
    if not case.is_open:
        raise Conflict(_("Only open items can be escalated."))
    if case.escalated_at is not None:
        raise Conflict(_("This item is already escalated."))
    before = _state(case)
    case.escalated_at = timezone.now()
    case.escalated_by = acting_user
    case.save(update_fields=["escalated_at", "escalated_by", "updated_at"])
    _event(case, CaseEvent.Kind.ESCALATION, acting_user, body=reason)
    _audit_case(acting_user, "case.escalate", case, before)
    notify(
        users=[engagement.manager, engagement.deputy, *provider_admins()],
        kind="case.escalated",
        key=f"case:{case.pk}:escalated",
        url=_case_url(case),
        thread=case_thread(case.pk),
        engagement=engagement,
        render=lambda: (
            _("Escalated: #%(id)s %(subject)s") % {"id": case.pk, "subject": case.subject},
            reason,
        ),
    )
    emit("case.escalated", case)
    return case


@transaction.atomic
def case_set_priority(*, acting_user: User, case: Case, priority: int | None) -> Case:
    """Priority management is part of case management (TSAM and Premium)."""
    case = _locked(case)
    require_entitlement(case.engagement, FunctionCode.CASE_MANAGEMENT)
    if not serves(acting_user, case.engagement):
        raise NotAllowed(_("Only the engagement's staff set priorities."))
    if priority is not None and not 1 <= int(priority) <= 5:
        raise InvalidInput(fields={"priority": [_("Priority is 1 (highest) to 5.")]})
    previous = case.priority
    before = _state(case)
    case.priority = priority
    case.save(update_fields=["priority", "updated_at"])
    _audit_case(acting_user, "case.priority", case, before)
    _event(case, CaseEvent.Kind.PRIORITY, acting_user, frm=previous, to=priority)
    emit("case.updated", case)
    return case


@transaction.atomic
def case_record_rca(
    *,
    acting_user: User,
    case: Case,
    findings: str,
    corrective_actions: str,
    delivery_method: str,
    delivered_at: datetime,
) -> RootCauseAnalysis:
    """Record the RCA of a severity-0 incident, delivered by a method the plan's RCA cadence
    allows."""
    case = _locked(case)
    engagement = case.engagement
    require_entitlement(engagement, FunctionCode.ROOT_CAUSE_ANALYSIS)
    if not serves(acting_user, engagement):
        raise NotAllowed(_("Only the engagement's staff record root cause analyses."))
    allowed = (
        Cadence.objects.filter(
            plan=engagement.plan, deliverable__code=FunctionCode.ROOT_CAUSE_ANALYSIS
        )
        .values_list("methods", flat=True)
        .first()
        or []
    )
    errors: dict[str, list[str]] = {}
    if case.kind != Case.Kind.INCIDENT or case.severity != 0:
        errors["case"] = [_("Root cause analyses are for severity-0 incidents.")]
    if not findings.strip():
        errors["findings"] = [_("Record the key findings.")]
    if not corrective_actions.strip():
        errors["corrective_actions"] = [_("Record the corrective actions.")]
    if delivery_method not in allowed:
        errors["delivery_method"] = [
            _("The plan delivers RCAs by: %(methods)s.") % {"methods": ", ".join(allowed) or "-"}
        ]
    if delivered_at > timezone.now():
        errors["delivered_at"] = [_("The delivery time cannot be in the future.")]
    if RootCauseAnalysis.objects.filter(case=case).exists():
        errors["case"] = [_("This incident already has a root cause analysis.")]
    if errors:
        raise InvalidInput(fields=errors)
    rca = RootCauseAnalysis.objects.create(
        case=case,
        findings=findings.strip(),
        corrective_actions=corrective_actions.strip(),
        delivery_method=delivery_method,
        delivered_at=delivered_at,
        author=acting_user,
    )
    _event(case, CaseEvent.Kind.RCA, acting_user, body=rca.findings, method=delivery_method)
    _audit_case(
        acting_user,
        "case.rca",
        case,
        _state(case),
        rca=rca.pk,
        delivery_method=delivery_method,
        delivered_at=delivered_at.isoformat(),
    )
    return rca


@transaction.atomic
@transaction.atomic
def case_raise_with_files(
    *, acting_user: User, uploads: Iterable[UploadedFile] = (), **fields: Any
) -> Case:
    """Raise an item (`case_raise`'s `fields`) with its first files, all or nothing: a file
    refused by `case_attach` raises nothing."""
    case = case_raise(acting_user=acting_user, **fields)
    for upload in uploads:
        case_attach(acting_user=acting_user, case=case, upload=upload)
    return case


def case_attach(
    *, acting_user: User, case: Case, upload: UploadedFile, public: bool = True
) -> Attachment:
    """Attach a file (PNG, JPEG, PDF or ZIP by content; at most 10 MB)."""
    case = _locked(case)
    staff = serves(acting_user, case.engagement)
    if not staff and not is_active_contact(case.engagement, acting_user):
        raise NotAllowed(_("Only named contacts and the engagement's staff can attach files."))
    kind = check_upload(
        upload, field="file", kinds=ATTACHMENT_KINDS, max_bytes=ATTACHMENT_MAX_BYTES
    )
    attachment = Attachment(
        case=case,
        original_name=(upload.name or "file")[:200],
        content_type=kind.content_type,
        size=upload.size or 0,
        public=public or not staff,
        uploaded_by=acting_user,
    )
    attachment.file.save(f"upload.{kind.extension}", upload, save=False)
    attachment.save()
    _event(
        case,
        CaseEvent.Kind.ATTACHMENT,
        acting_user,
        body=attachment.original_name,
        public=attachment.public,
        attachment=attachment.pk,
    )
    _audit_case(
        acting_user,
        "case.attach",
        case,
        _state(case),
        attachment=attachment.pk,
        name=attachment.original_name,
        public=attachment.public,
    )
    return attachment


# --- Bulk actions of the case list: the one-by-one services, all or nothing ---------------------

BULK_MAX_ITEMS = 100


class ItemsNotFound(DomainError):
    """Some of the ids name no item the actor can see (HTTP 404, code not_found): another
    tenant's item and a missing one answer alike."""

    status_code = 404
    code = "not_found"


def _bulk_items(acting_user: User, ids: Iterable[int]) -> list[Case]:
    """The items `ids` name, through the actor's scope, locked in id order (so two bulk
    actions, or a bulk action and a single one, cannot lock in opposite orders)."""
    if not acting_user.is_provider_staff:
        raise NotAllowed(_("Only provider staff change items in bulk."))
    wanted = sorted(set(ids))
    if not wanted:
        raise InvalidInput(fields={"ids": [_("Choose at least one item.")]})
    if len(wanted) > BULK_MAX_ITEMS:
        raise InvalidInput(
            fields={
                "ids": [
                    _("Choose at most %(max)d items at a time (you chose %(count)d).")
                    % {"max": BULK_MAX_ITEMS, "count": len(wanted)}
                ]
            }
        )
    found = set(Case.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise ItemsNotFound(
            _("No item #%(id)s was found.") % {"id": missing[0]},
            fields={"ids": [_("No item #%(id)s was found.") % {"id": missing[0]}]},
        )
    lock_rows(Case, wanted)
    return [Case(pk=pk) for pk in wanted]


def _refused_item(case: Case, error: DomainError) -> DomainError:
    """The item's refusal, naming the item: the whole batch is undone."""
    message = _("#%(id)s was refused, so nothing was changed: %(reason)s") % {
        "id": case.pk,
        "reason": error_text(error),
    }
    return type(error)(message, fields={"ids": [message]})


@atomic_retried
def cases_bulk_assign(*, acting_user: User, ids: Iterable[int], assignee: User | None) -> int:
    """`case_assign` of each item, in one transaction: one refusal (not serving, the cap, not
    allowed) undoes them all and names the item. Returns how many items were assigned."""
    items = _bulk_items(acting_user, ids)
    for case in items:
        try:
            case_assign(acting_user=acting_user, case=case, assignee=assignee)
        except DomainError as error:
            raise _refused_item(case, error) from error
    return len(items)


@atomic_retried
def cases_bulk_set_status(
    *, acting_user: User, ids: Iterable[int], status: str, note: str = ""
) -> int:
    """`case_set_status` of each item, in one transaction: one refusal (a transition the
    workflow has not, an RCA missing) undoes them all and names the item."""
    items = _bulk_items(acting_user, ids)
    for case in items:
        try:
            case_set_status(acting_user=acting_user, case=case, status=status, note=note)
        except DomainError as error:
            raise _refused_item(case, error) from error
    return len(items)
