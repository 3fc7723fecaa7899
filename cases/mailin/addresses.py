"""The addresses inbound e-mail arrives at, and what they name (pure functions, no ORM).

`support@example.com` (settings.INBOUND_EMAIL_ADDRESS) takes new items; sub-addresses say more:

- `support+c<case id>.<sig>@example.com` — a reply to a notification about that case. The
  signature (HMAC of the case id under SECRET_KEY) stops anyone from guessing another case's
  address; the sender must still be allowed on the case.
- `support+e<engagement id>@example.com` — a new item on that engagement (for a contact named
  on more than one).

A subject carrying `[#<case id>]` names the case too (mail clients that drop the Reply-To).
"""

from __future__ import annotations

import re
from email.utils import getaddresses
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SIGNATURE_LENGTH = 10
_SALT = "cases.mailin.reply-address"
_CASE_TAG = re.compile(rf"^c(?P<id>[1-9][0-9]{{0,17}})\.(?P<sig>[0-9a-f]{{{SIGNATURE_LENGTH}}})$")
_ENGAGEMENT_TAG = re.compile(r"^e(?P<id>[1-9][0-9]{0,17})$")
_SUBJECT_TAG = re.compile(r"\[#(?P<id>[1-9][0-9]{0,17})\]")


def inbound_address() -> str:
    """The portal's inbound address: settings.INBOUND_EMAIL_ADDRESS, else `support@` the
    host of SITE_URL, else `support@localhost`."""
    configured = (getattr(settings, "INBOUND_EMAIL_ADDRESS", "") or "").strip()
    if configured:
        return configured
    host = urlsplit(getattr(settings, "SITE_URL", "") or "").hostname or "localhost"
    return f"support@{host}"


def _parts(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return local, domain


def _signature(case_id: int) -> str:
    return salted_hmac(_SALT, str(case_id), algorithm="sha256").hexdigest()[:SIGNATURE_LENGTH]


def reply_address(case_id: int) -> str:
    """The address a notification about case `case_id` asks replies to go to."""
    local, domain = _parts(inbound_address())
    return f"{local}+c{int(case_id)}.{_signature(int(case_id))}@{domain}"


def engagement_address(engagement_id: int) -> str:
    """The address that raises a new item on engagement `engagement_id`."""
    local, domain = _parts(inbound_address())
    return f"{local}+e{int(engagement_id)}@{domain}"


def _tag(address: str) -> str | None:
    """The sub-address (`+tag`) of `address` when it is one of ours (same local part and
    domain, compared without case), else None. Accepts `Name <addr>` too."""
    parsed = getaddresses([address or ""])
    addr = parsed[0][1] if parsed else ""
    local, domain = _parts(addr.strip())
    base_local, base_domain = _parts(inbound_address())
    if not local or domain.lower() != base_domain.lower():
        return None
    base, plus, tag = local.partition("+")
    if not plus or base.lower() != base_local.lower():
        return None
    return tag.lower()


def case_id_from_address(address: str) -> int | None:
    """The case a reply address names, when its signature is right (constant-time)."""
    tag = _tag(address)
    match = _CASE_TAG.match(tag or "")
    if match is None:
        return None
    case_id = int(match["id"])
    if not constant_time_compare(match["sig"], _signature(case_id)):
        return None
    return case_id


def engagement_reference_from_address(address: str) -> str | None:
    """The engagement reference (`e<id>`'s id, as a string) an address names, else None."""
    match = _ENGAGEMENT_TAG.match(_tag(address) or "")
    return match["id"] if match else None


def is_inbound_address(address: str) -> bool:
    """Whether `address` is the inbound address or one of its sub-addresses."""
    parsed = getaddresses([address or ""])
    local, domain = _parts((parsed[0][1] if parsed else "").strip())
    base_local, base_domain = _parts(inbound_address())
    return domain.lower() == base_domain.lower() and (
        local.lower() == base_local.lower() or local.lower().startswith(base_local.lower() + "+")
    )


def case_id_from_subject(subject: str) -> int | None:
    """The case `[#<id>]` in a subject names (the last one: replies prefix, never suffix)."""
    matches = _SUBJECT_TAG.findall(subject or "")
    return int(matches[-1]) if matches else None


def subject_tag(case_id: int) -> str:
    return f"[#{int(case_id)}]"
