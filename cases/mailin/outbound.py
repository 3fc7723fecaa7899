"""Outbound e-mail about a case, threaded: what makes a notification's e-mail land in the same
conversation as the case in the recipient's mail client, and a reply to it come back to the case.

Every e-mail about case 12 (its notifications, through the kernel's outbox) carries:

- the subject prefix `[#12]` (a reply keeps it; `case_id_from_subject` reads it back);
- `Reply-To: support+c12.<signature>@domain` (`reply_address`): a reply goes to the case;
- its own `Message-ID: <portal.case-12.<uuid>@domain>`, fixed when the e-mail is queued, so a
  retry or a resend is the same message to the recipient's client;
- `In-Reply-To` and `References` naming the case's root, `<case-12@domain>`, and, when the case
  was raised by e-mail, the Message-ID of that first e-mail (the customer's own thread).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from cases.mailin.addresses import inbound_address, reply_address, subject_tag
from cases.mailin.models import InboundMessage
from portal.notifications import MailThread
from portal.tenancy.scoping import unscoped

_MSG_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
# The Message-ID of the e-mail that is raising a case right now: its record names the case only
# once the case exists, after the case's first notification was queued.
_raising_from: ContextVar[str] = ContextVar("mailin_raising_from", default="")


@contextmanager
def raising_from(message_id: str) -> Iterator[None]:
    """While an e-mail raises a case, the case's e-mails thread on that e-mail already."""
    token = _raising_from.set(message_id)
    try:
        yield
    finally:
        _raising_from.reset(token)


def _first_id(value: str) -> str | None:
    ids = _MSG_ID.findall(value or "")
    return ids[0] if ids else None


def message_id_domain() -> str:
    """The domain of the portal's own message ids: the inbound address's."""
    return inbound_address().rpartition("@")[2] or "localhost"


def case_root_message_id(case_id: int) -> str:
    """The id every e-mail about the case refers to as its thread's root."""
    return f"<case-{int(case_id)}@{message_id_domain()}>"


def original_message_id(case_id: int) -> str | None:
    """The Message-ID of the e-mail that raised the case, if it was raised by e-mail (recorded
    by the intake, or the one raising it right now)."""
    first = (
        unscoped(InboundMessage, "the message that raised a case the caller already holds")
        .filter(case_id=case_id, outcome="created_case")
        .exclude(message_id="")
        .order_by("pk")
        .values_list("message_id", flat=True)
        .first()
    )
    return _first_id(first or "") or _first_id(_raising_from.get())


def case_email_headers(case_id: int) -> Callable[[], dict[str, str]]:
    """A maker of the headers of one e-mail about the case (a new Message-ID each call); the
    case's thread ids are looked up once, at the first e-mail (none when nobody gets one)."""
    domain = message_id_domain()
    thread: list[str] = []

    def headers() -> dict[str, str]:
        if not thread:
            root = case_root_message_id(case_id)
            original = original_message_id(case_id)
            thread.extend([original or root, " ".join(i for i in (original, root) if i)])
        return {
            "Reply-To": reply_address(case_id),
            "Message-ID": f"<portal.case-{int(case_id)}.{uuid.uuid4().hex}@{domain}>",
            "In-Reply-To": thread[0],
            "References": thread[1],
        }

    return headers


def case_thread(case_id: int) -> MailThread:
    """The MailThread of every notification about the case (portal.notifications.notify)."""
    return MailThread(subject_prefix=subject_tag(case_id), headers=case_email_headers(case_id))
