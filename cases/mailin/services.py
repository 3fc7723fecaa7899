"""Cases by e-mail: the one code path for every inbound message.

`ingest_message(raw)` is called by `manage.py ingest_email` (an MTA's pipe) and by the IMAP
poller. It reads the message, decides what it is, and acts as the sender through the case
services (so the SLA, the manager's cap, the audit trail, notifications and webhooks all apply),
recording the message in the same transaction: handled twice, or by two processes at once, it
creates one thing.

- From a named contact, new: an item on their engagement (the `+e<id>` address picks one when
  they have several active; with several and no pick, a reply asks them to choose).
- A reply (the signed `+c<id>.<sig>` address, or `[#<id>]` in the subject): a public comment
  on that item, if the sender may comment on it; it ends "awaiting customer".
- Auto-replies, bounces and list mail: nothing, and no answer.
- Anyone else (unknown, members who only read, engagements outside their term): one polite
  refusal per sender and day, through the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cases.casework.models import Case
from cases.casework.services import (
    ATTACHMENT_KINDS,
    ATTACHMENT_MAX_BYTES,
    case_attach,
    case_comment,
    case_raise,
)
from cases.mailin import addresses
from cases.mailin.models import InboundMessage
from cases.mailin.outbound import case_thread, raising_from
from cases.mailin.parsing import (
    File,
    Parsed,
    automatic,
    message_key,
    new_text_of_reply,
    parse,
    strip_reply_prefix,
)
from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from engagements.selectors import term_notice
from portal.accounts.models import User
from portal.errors import DomainError, EngagementNotActive, NotAllowed
from portal.files import check_upload
from portal.locks import atomic_retried
from portal.notifications import queue_email, recipient_language
from portal.tenancy.scoping import tenant_scope, unscoped

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATED_CASE = "created_case"
    COMMENT_ADDED = "comment_added"
    DUPLICATE = "duplicate"
    # Answered with one polite refusal (per sender and day).
    REFUSED_UNKNOWN_SENDER = "refused_unknown_sender"
    REFUSED_NOT_CONTACT = "refused_not_contact"
    REFUSED_NOT_IN_TERM = "refused_not_in_term"
    REFUSED_CHOOSE_ENGAGEMENT = "refused_choose_engagement"
    REFUSED_UNKNOWN_CASE = "refused_unknown_case"
    REFUSED_INVALID = "refused_invalid"
    # Nothing done, nothing answered.
    IGNORED_AUTOMATIC = "ignored_automatic"
    IGNORED_NO_SENDER = "ignored_no_sender"
    IGNORED_LOOP = "ignored_loop"
    IGNORED_EMPTY_REPLY = "ignored_empty_reply"

    @property
    def refused(self) -> bool:
        return self.value.startswith("refused_")

    @property
    def ignored(self) -> bool:
        return self.value.startswith("ignored_") or self is Outcome.DUPLICATE


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    message_key: str = ""
    case_id: int | None = None
    sender: str = ""
    # Attachments left out (name and why): the item is kept without them.
    dropped: tuple[str, ...] = ()
    refusal_sent: bool = False
    detail: str = ""


@dataclass
class _Decision:
    outcome: Outcome
    case: Case | None = None
    engagement: Engagement | None = None
    dropped: list[str] = field(default_factory=list)
    refusal_sent: bool = False
    detail: str = ""


def ingest_message(raw: bytes, *, received_at: datetime | None = None) -> IngestResult:
    """Handle one inbound RFC 5322 message; see the module's docstring. Never raises for a bad
    message; database errors (unreachable, …) go up, so the caller can have it delivered again.

    `received_at`: when the message reached us (the IMAP server's arrival time); now when
    absent. The item's response objective runs from it. A time in the future counts as now."""
    raw = bytes(raw or b"")
    now = timezone.now()
    if received_at is not None and timezone.is_naive(received_at):
        received_at = timezone.make_aware(received_at, UTC)
    received_at = min(received_at or now, now)
    parsed = parse(raw)
    key, message_id = message_key(parsed.message, raw)
    seen = unscoped(InboundMessage, "a message's key is unique across tenants: seen before?")
    if seen.filter(message_key=key).exists():
        return IngestResult(Outcome.DUPLICATE, message_key=key, sender=parsed.sender)
    return _ingest(parsed, key=key, message_id=message_id, received_at=received_at)


@atomic_retried
def _ingest(parsed: Parsed, *, key: str, message_id: str, received_at: datetime) -> IngestResult:
    record = InboundMessage(
        message_key=key,
        message_id=message_id,
        sender=parsed.sender[:254],
        subject=parsed.subject[:200],
        outcome="",
        received_at=received_at,
    )
    try:
        with transaction.atomic():
            # First, so a second process with the same message waits here for this one's
            # transaction, then finds the key taken.
            record.save(force_insert=True)
    except IntegrityError:
        return IngestResult(Outcome.DUPLICATE, message_key=key, sender=parsed.sender)
    decision = _decide(parsed, record)
    record.outcome = decision.outcome.value
    record.case = decision.case
    record.engagement = decision.engagement or (decision.case.engagement if decision.case else None)
    record.organization_id = record.engagement.organization_id if record.engagement else None
    record.detail = "\n".join(filter(None, [decision.detail, *decision.dropped]))
    record.save(update_fields=["outcome", "case", "engagement", "organization", "detail"])
    logger.info(
        "Inbound e-mail %s from %s: %s%s",
        key,
        parsed.sender or "(no sender)",
        decision.outcome.value,
        f" #{decision.case.pk}" if decision.case else "",
    )
    return IngestResult(
        decision.outcome,
        message_key=key,
        case_id=decision.case.pk if decision.case else None,
        sender=parsed.sender,
        dropped=tuple(decision.dropped),
        refusal_sent=decision.refusal_sent,
        detail=decision.detail,
    )


def purge_old_messages(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Forget inbound e-mails older than INBOUND_MESSAGE_RETENTION_DAYS, in batches; returns how
    many. The record of the e-mail that raised an item stays as long as the item (its Message-ID
    threads every e-mail about the item); a message delivered again after the retention would
    be handled again, which no mail system does after days."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.INBOUND_MESSAGE_RETENTION_DAYS)
    old = (
        unscoped(InboundMessage, "retention covers every organization's inbound e-mail")
        .filter(received_at__lt=cutoff)
        .exclude(outcome=Outcome.CREATED_CASE.value)
    )
    deleted = 0
    while ids := list(old.order_by("received_at").values_list("pk", flat=True)[:batch]):
        count, _by_model = old.filter(pk__in=ids).delete()
        deleted += count
    return deleted


def _is_ours(address: str) -> bool:
    ours = {addresses.inbound_address().lower()}
    _name, _, default_from = (settings.DEFAULT_FROM_EMAIL or "").rpartition("<")
    ours.add((default_from or settings.DEFAULT_FROM_EMAIL).strip(" >").lower())
    return address in ours or addresses.is_inbound_address(address)


def _decide(parsed: Parsed, record: InboundMessage) -> _Decision:
    try:
        machine = automatic(parsed.message)
    except Exception:  # a header too broken to read: treat it as a machine's
        machine = "unreadable"
    if machine:
        return _Decision(Outcome.IGNORED_AUTOMATIC, detail=machine)
    sender = parsed.sender
    try:
        validate_email(sender)
    except ValidationError:
        return _Decision(Outcome.IGNORED_NO_SENDER)
    if _is_ours(sender):
        return _Decision(Outcome.IGNORED_LOOP)
    user = User.objects.filter(email__iexact=sender, is_active=True).first()
    if user is None:
        return _refuse(record, Outcome.REFUSED_UNKNOWN_SENDER, to=sender, subject=parsed.subject)
    case_id = next(
        filter(None, (addresses.case_id_from_address(a) for a in parsed.recipients)), None
    ) or addresses.case_id_from_subject(parsed.subject)
    with tenant_scope(user):
        if case_id is not None:
            return _reply(parsed, record, user, case_id)
        return _new_case(parsed, record, user)


# --- attachments -------------------------------------------------------------------------------


def _upload(file: File) -> SimpleUploadedFile:
    return SimpleUploadedFile(file.name, file.data, content_type=file.content_type)


def _sorted_files(files: list[File]) -> tuple[list[File], list[str]]:
    """The files the upload checks accept (the same check, type by content and size), and a
    line for each one they refuse."""
    accepted: list[File] = []
    dropped: list[str] = []
    for file in files:
        try:
            check_upload(
                _upload(file), field="file", kinds=ATTACHMENT_KINDS, max_bytes=ATTACHMENT_MAX_BYTES
            )
        except DomainError as error:
            reasons = [str(m) for messages in (error.fields or {}).values() for m in messages]
            dropped.append(f"{file.name}: {' '.join(reasons) or error}")
        else:
            accepted.append(file)
    return accepted, dropped


def _with_dropped(text: str, dropped: list[str]) -> str:
    if not dropped:
        return text
    note = _("Attachments not accepted (only PNG, JPEG, PDF and ZIP files up to 10 MB):")
    lines = "\n".join(f"- {line}" for line in dropped)
    return f"{text}\n\n{note}\n{lines}".strip()


def _attach_all(user: User, case: Case, files: list[File]) -> None:
    for file in files:
        case_attach(acting_user=user, case=case, upload=_upload(file))


# --- a new item --------------------------------------------------------------------------------


def _new_case(parsed: Parsed, record: InboundMessage, user: User) -> _Decision:
    contacts = list(
        Contact.objects.filter(user=user, removed_at__isnull=True)
        .select_related("engagement__plan", "engagement__organization")
        .order_by("engagement__start_date", "engagement_id")
    )
    engagements = list({contact.engagement.pk: contact.engagement for contact in contacts}.values())
    if not engagements:
        return _refuse(record, Outcome.REFUSED_NOT_CONTACT, to=parsed.sender, user=user)
    reference = next(
        filter(None, (addresses.engagement_reference_from_address(a) for a in parsed.recipients)),
        None,
    )
    active = [engagement for engagement in engagements if not term_notice(engagement)]
    if reference is not None:
        chosen = [engagement for engagement in engagements if str(engagement.pk) == reference]
        if not chosen:  # not theirs (another organization's, or none): never written to
            return _choose(record, parsed, user, active or engagements)
        engagement = chosen[0]
    elif len(active) == 1:
        engagement = active[0]
    elif not active:
        return _refuse(
            record,
            Outcome.REFUSED_NOT_IN_TERM,
            to=parsed.sender,
            user=user,
            engagement=engagements[-1],
        )
    else:
        return _choose(record, parsed, user, active)
    with translation.override(engagement.language or settings.LANGUAGE_CODE):
        accepted, dropped = _sorted_files(parsed.files)  # why each was refused, in its language
        subject = strip_reply_prefix(parsed.subject)[:200].strip() or _("(no subject)")
        description = _with_dropped(parsed.text.strip(), dropped)
    try:
        with transaction.atomic(), raising_from(record.message_id):
            case = case_raise(
                acting_user=user,
                engagement=engagement,
                kind=Case.Kind.INQUIRY,
                severity=Case.Severity.MEDIUM,
                subject=subject,
                description=description,
                received_at=record.received_at,
                by_email=True,
            )
            _attach_all(user, case, accepted)
            _acknowledge(user, case, engagement)
    except DomainError as error:
        return _refused_by(error, record, to=parsed.sender, user=user, engagement=engagement)
    return _Decision(Outcome.CREATED_CASE, case=case, engagement=engagement, dropped=dropped)


def _acknowledge(user: User, case: Case, engagement: Engagement) -> None:
    """The receipt a helpdesk sends for a request by e-mail: the item's number, when its first
    response is due (in the sender's zone) and how to add to it. It belongs to the item's e-mail
    thread and answers the customer's own e-mail, so their client shows it under what they
    sent; marked automatic (RFC 3834), so no auto-responder answers it."""
    language = recipient_language(user, engagement)
    thread = case_thread(case.pk)
    due = timezone.localtime(case.response_due_at, ZoneInfo(user.time_zone or "UTC"))
    url = settings.SITE_URL + reverse("case_detail", args=[case.pk])
    with translation.override(language):
        title = thread.subject(_("Received: %(subject)s") % {"subject": case.subject})
        body = "\n\n".join(
            [
                _("Hello,"),
                _("We received your request and recorded it as item #%(id)s of %(engagement)s.")
                % {"id": case.pk, "engagement": engagement},
                _("A first response is due by %(due)s.")
                % {"due": f"{date_format(due, 'DATETIME_FORMAT')} {due.tzname()}"},
                _("To add to it, reply to this e-mail. To follow it, open %(url)s") % {"url": url},
            ]
        )
    headers = {**thread.headers(), "Auto-Submitted": "auto-replied"}
    queue_email(to=user.email, subject=title, body=body, language=language, headers=headers)


def _choose(
    record: InboundMessage, parsed: Parsed, user: User, engagements: list[Engagement]
) -> _Decision:
    choices = "\n".join(
        f"- {engagement}: {addresses.engagement_address(engagement.pk)}"
        for engagement in engagements
    )
    return _refuse(
        record,
        Outcome.REFUSED_CHOOSE_ENGAGEMENT,
        to=parsed.sender,
        user=user,
        engagement=engagements[0] if engagements else None,
        choices=choices,
    )


# --- a reply -----------------------------------------------------------------------------------


def _reply(parsed: Parsed, record: InboundMessage, user: User, case_id: int) -> _Decision:
    # Through the sender's scope: another organization's item is not found, like a missing one.
    case = Case.objects.filter(pk=case_id).select_related("engagement").first()
    if case is None:
        return _refuse(record, Outcome.REFUSED_UNKNOWN_CASE, to=parsed.sender, user=user)
    engagement = case.engagement
    with translation.override(engagement.language or settings.LANGUAGE_CODE):
        accepted, dropped = _sorted_files(parsed.files)
    text = new_text_of_reply(parsed.text)
    if not text and not accepted:
        return _Decision(Outcome.IGNORED_EMPTY_REPLY, case=case, dropped=dropped)
    with translation.override(engagement.language or settings.LANGUAGE_CODE):
        if not text:
            text = _("Attached by e-mail: %(files)s") % {
                "files": ", ".join(file.name for file in accepted)
            }
        body = _with_dropped(text, dropped)
    try:
        with transaction.atomic():
            case_comment(acting_user=user, case=case, body=body, public=True)
            _attach_all(user, case, accepted)
    except DomainError as error:
        return _refused_by(error, record, to=parsed.sender, user=user, engagement=engagement)
    return _Decision(Outcome.COMMENT_ADDED, case=case, dropped=dropped)


# --- refusals ----------------------------------------------------------------------------------


def _refusal_text(outcome: Outcome, *, address: str, subject: str, choices: str) -> tuple[str, str]:
    greeting = _("Hello,")
    quoted = _("We received your e-mail “%(subject)s”.") % {"subject": subject or "—"}
    reasons = {
        Outcome.REFUSED_UNKNOWN_SENDER: _(
            "%(address)s takes requests only from the named contacts of a support engagement, "
            "and your address is not one of them. If it should be, ask your organization's "
            "named contact or your service manager to add you."
        ),
        Outcome.REFUSED_NOT_CONTACT: _(
            "Only the named contacts of an engagement can raise or answer items by e-mail; "
            "your account can read your organization's items in the portal. Ask one of your "
            "named contacts to send it."
        ),
        Outcome.REFUSED_NOT_IN_TERM: _(
            "Your engagement is not active (its term has ended or not yet begun), so it takes "
            "no new requests. Please contact your service manager."
        ),
        Outcome.REFUSED_CHOOSE_ENGAGEMENT: _(
            "You are a named contact of more than one engagement, so we could not tell which "
            "one this request is for. Please send it again to the address of that engagement:"
        ),
        Outcome.REFUSED_UNKNOWN_CASE: _(
            "It refers to an item you cannot reply to by e-mail, so it was not added. Please "
            "reply from the portal, or send a new request to %(address)s."
        ),
        Outcome.REFUSED_INVALID: _(
            "We could not turn it into a request. Please use the portal, or write again to "
            "%(address)s."
        ),
    }
    reason = str(reasons.get(outcome, reasons[Outcome.REFUSED_INVALID])) % {"address": address}
    once = _("This is an automatic message, sent at most once a day; replies to it are not read.")
    parts = [greeting, quoted + " " + reason]
    if choices:
        parts.append(choices)
    parts.append(once)
    title = _("Your e-mail to %(address)s was not accepted") % {"address": address}
    return title, "\n\n".join(parts)


def _refused_by(
    error: DomainError, record: InboundMessage, *, to: str, user: User, engagement: Engagement
) -> _Decision:
    """The refusal that answers a case service's: outside the term, not allowed, or invalid."""
    if isinstance(error, EngagementNotActive):
        outcome = Outcome.REFUSED_NOT_IN_TERM
    elif isinstance(error, NotAllowed):
        outcome = Outcome.REFUSED_NOT_CONTACT
    else:
        outcome = Outcome.REFUSED_INVALID
    return _refuse(record, outcome, to=to, user=user, engagement=engagement, detail=str(error))


def _refuse(
    record: InboundMessage,
    outcome: Outcome,
    *,
    to: str,
    subject: str | None = None,
    user: User | None = None,
    engagement: Engagement | None = None,
    choices: str = "",
    detail: str = "",
) -> _Decision:
    """Refuse the message: one polite e-mail per sender and (UTC) day, in their language
    (theirs, or the engagement's, when known; English otherwise)."""
    day = timezone.now().date().isoformat()
    refusal_key = f"{to.lower()}:{day}"[:300]
    try:
        with transaction.atomic():
            record.refusal_key = refusal_key
            record.save(update_fields=["refusal_key"])
    except IntegrityError:
        record.refusal_key = None
        return _Decision(outcome, engagement=engagement, detail=detail)
    language = recipient_language(user, engagement) if user is not None else settings.LANGUAGE_CODE
    with translation.override(language):
        title, body = _refusal_text(
            outcome,
            address=addresses.inbound_address(),
            subject=record.subject if subject is None else subject,
            choices=choices,
        )
    # An automatic answer (RFC 3834): marked so the other side's machines answer nothing, and
    # threaded on the message it answers.
    headers = {"Auto-Submitted": "auto-replied"}
    if record.message_id:
        headers["In-Reply-To"] = headers["References"] = record.message_id
    queue_email(to=to, subject=title, body=body, language=language, headers=headers)
    return _Decision(outcome, engagement=engagement, refusal_sent=True, detail=detail)
