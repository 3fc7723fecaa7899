"""Inquiries and cases, from raising to resolution: models."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.tenancy.scoping import TenantOwned


class Case(TenantOwned):
    """An inquiry, incident or service request raised on an engagement."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"
    # Set on listed instances by the review pages (reviews/views.py).
    kind_label: str
    severity_label: str

    class Kind(models.TextChoices):
        INQUIRY = "inquiry", _("Inquiry")
        INCIDENT = "incident", _("Incident")
        SERVICE_REQUEST = "service_request", _("Service request")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        RESPONDED = "responded", _("Responded")
        IN_PROGRESS = "in_progress", _("In progress")
        AWAITING_CUSTOMER = "awaiting_customer", _("Awaiting customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Severity(models.IntegerChoices):
        CRITICAL = 0, _("0 · Critical outage")
        HIGH = 1, _("1 · High")
        MEDIUM = 2, _("2 · Medium")
        LOW = 3, _("3 · Low")

    OPEN_STATUSES = (Status.NEW, Status.RESPONDED, Status.IN_PROGRESS, Status.AWAITING_CUSTOMER)

    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("engagement"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.MEDIUM
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("Set by the service manager where the plan includes case management."),
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    response_due_at = models.DateTimeField(_("response due"))
    reminder_due_at = models.DateTimeField(_("reminder due"))  # 75 % of the business window
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    first_response_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="raised_cases",
        verbose_name=_("raised by"),
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="case_updated"),
            # The SLA scanner: unanswered open items by threshold time.
            models.Index(
                fields=["reminder_due_at"],
                name="case_unanswered_reminder",
                condition=Q(first_response_at__isnull=True),
            ),
            models.Index(
                fields=["response_due_at"],
                name="case_unanswered_due",
                condition=Q(first_response_at__isnull=True),
            ),
            # The manager's cap and queue: open items per assignee.
            models.Index(fields=["assignee", "status"], name="case_assignee_status"),
            models.Index(fields=["engagement", "status", "received_at"], name="case_engagement"),
            # The case list newest first, an engagement at a time (the API's page of ids reads
            # each of the viewer's engagements' first rows, not the organization's every row).
            models.Index(
                fields=["engagement", "received_at", "id"], name="case_engagement_received"
            ),
            # The weekly board: an engagement's unanswered items past their reminder time,
            # without reading the engagement's whole history.
            models.Index(
                fields=["engagement", "reminder_due_at"],
                name="case_unanswered_engagement",
                condition=Q(first_response_at__isnull=True),
            ),
            # Open items an engagement at a time (a tenth of the table): the navigation's queue
            # count and the board's health (open severity 0/1 items) read these rows only, not
            # the engagements' whole history through the plain engagement index (issue 17).
            models.Index(
                fields=["engagement", "severity"],
                name="case_open_engagement",
                condition=Q(status__in=("new", "responded", "in_progress", "awaiting_customer")),
            ),
            # The customer's home (issue 17): its counts and the ids of its open and waiting
            # lists come from this index alone (an index-only scan of the open items), not from
            # the engagements' whole history, which grows with the data.
            models.Index(
                fields=["engagement"],
                name="case_home_open",
                include=[
                    "id",
                    "status",
                    "first_response_at",
                    "response_due_at",
                    "reminder_due_at",
                    "resolved_at",
                    "updated_at",
                ],
                condition=Q(status__in=("new", "responded", "in_progress", "awaiting_customer")),
            ),
            # ... and its recent resolutions: ended items by when they ended, newest first
            # (the columns of the expression included: PostgreSQL then reads the index alone).
            models.Index(
                F("engagement"),
                Coalesce("resolved_at", "closed_at").desc(),
                name="case_home_ended",
                include=["id", "resolved_at", "closed_at"],
                condition=Q(status__in=("resolved", "closed")),
            ),
            # Response objectives due in a window, an engagement at a time, with whether each was
            # met: the board's and the overview's SLA attainment read only the window's rows, from
            # the index alone, not the engagement's whole history (issue 17).
            models.Index(
                fields=["engagement", "response_due_at"],
                name="case_engagement_due",
                include=["first_response_at"],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__gte=0) & Q(severity__lte=3), name="case_severity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class CaseEvent(TenantOwned):
    """One entry of a case's timeline: a comment, a status change, an assignment, …"""

    tenant_path = "case__engagement__organization"
    tenant_engagement_path = "case__engagement"

    class Kind(models.TextChoices):
        CREATED = "created", _("Raised")
        COMMENT = "comment", _("Comment")
        RESPONSE = "response", _("Response")
        STATUS = "status", _("Status change")
        ASSIGNMENT = "assignment", _("Assignment")
        ESCALATION = "escalation", _("Escalation")
        PRIORITY = "priority", _("Priority")
        ATTACHMENT = "attachment", _("Attachment")
        RCA = "rca", _("Root cause analysis")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    public = models.BooleanField(_("visible to the customer"), default=True)
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="case_event_timeline")]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


def attachment_path(attachment: Attachment, filename: str) -> str:
    import uuid
    from pathlib import Path

    return f"cases/{attachment.case_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class Attachment(TenantOwned):
    """A file on a case: size-limited, type-checked, stored outside the web root."""

    tenant_path = "case__engagement__organization"
    tenant_engagement_path = "case__engagement"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    public = models.BooleanField(_("visible to the customer"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class RootCauseAnalysis(TenantOwned):
    """Findings and corrective actions of a severity-0 incident, and how they were delivered."""

    tenant_path = "case__engagement__organization"
    tenant_engagement_path = "case__engagement"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="rca")
    findings = models.TextField(_("key findings"))
    corrective_actions = models.TextField(_("corrective actions"))
    delivery_method = models.CharField(_("delivery method"), max_length=12)
    delivered_at = models.DateTimeField(_("delivered"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("root cause analysis")
        verbose_name_plural = _("root cause analyses")

    def __str__(self) -> str:
        return f"RCA of {self.case_id}"


class SlaReminder(TenantOwned):
    """What the SLA scanner sent: one row per case and threshold, claimed in the transaction
    that sends, so a reminder goes out exactly once."""

    tenant_path = "case__engagement__organization"
    tenant_engagement_path = "case__engagement"

    class Threshold(models.TextChoices):
        AT_RISK = "at_risk", _("75 % of the response window passed")
        BREACHED = "breached", _("Response objective breached")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sla_reminders")
    threshold = models.CharField(max_length=10, choices=Threshold.choices)
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "threshold"], name="sla_reminder_once")
        ]
        verbose_name = _("SLA reminder")
        verbose_name_plural = _("SLA reminders")

    def __str__(self) -> str:
        return f"{self.case_id} {self.threshold}"
