"""INBOUND_IMAP_URL, the mailbox the IMAP poller reads, parsed and checked (standard library
only: portal/settings.py calls it, so a bad URL stops every process at startup, saying why).

    imaps://USER:PASSWORD@HOST[:993]/[MAILBOX][?cafile=/path/to/ca.pem]
    imap://USER:PASSWORD@HOST[:143]/[MAILBOX][?starttls=yes][&cafile=...]

`imaps` is TLS from the first byte (port 993); `imap` is plain text (port 143) unless
`starttls=yes`, which upgrades the connection before signing in. The user and the password are
percent-encoded where they hold `@`, `:`, `/` or `%` (`p%40ss` for `p@ss`); the mailbox is
INBOX unless the path names another (ASCII; percent-encoded spaces). `cafile` trusts a private
certificate authority (the server's certificate is always verified).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


class ImapUrlError(ValueError):
    """INBOUND_IMAP_URL is not a mailbox URL the poller can use; the message says why."""


@dataclass(frozen=True)
class ImapMailbox:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    tls: bool = True  # imaps: TLS from the start
    starttls: bool = False  # imap: upgraded with STARTTLS before signing in
    cafile: str | None = None

    def __str__(self) -> str:
        """The URL without its password (for logs)."""
        scheme = "imaps" if self.tls else "imap"
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.mailbox}"


def check_folder_name(name: str, what: str) -> str:
    """A folder name the poller can send as a quoted IMAP string (ASCII, one line)."""
    if not name or _CONTROL.search(name) or not name.isascii():
        raise ImapUrlError(f"{what} must be a non-empty ASCII folder name, not {name!r}.")
    return name


def parse_imap_url(url: str) -> ImapMailbox:
    """The mailbox `url` names; ImapUrlError with the reason when it names none."""
    what = "INBOUND_IMAP_URL"
    if _CONTROL.search(url or ""):
        raise ImapUrlError(f"{what} holds a control character.")
    parts = urlsplit((url or "").strip())
    scheme = parts.scheme.lower()
    if scheme not in ("imap", "imaps"):
        raise ImapUrlError(
            f"{what} must start with imaps:// (TLS) or imap:// (plain or STARTTLS), "
            f"not {parts.scheme + '://' if parts.scheme else 'no scheme'}."
        )
    if parts.fragment:
        raise ImapUrlError(f"{what} takes no #fragment.")
    if not parts.hostname:
        raise ImapUrlError(f"{what} names no host: {scheme}://USER:PASSWORD@HOST/MAILBOX.")
    try:
        port = parts.port
    except ValueError:
        raise ImapUrlError(f"{what} has a port that is not a number from 1 to 65535.") from None
    if port == 0:
        raise ImapUrlError(f"{what} has a port that is not a number from 1 to 65535.")
    if not parts.username or parts.password is None:
        raise ImapUrlError(
            f"{what} names no user and password: {scheme}://USER:PASSWORD@HOST/MAILBOX "
            "(percent-encode @, : and / inside them)."
        )
    mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
    check_folder_name(mailbox, f"The mailbox of {what}")
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ImapUrlError(f"{what} has a malformed ?query.") from None
    unknown = sorted(set(query) - {"starttls", "cafile"})
    if unknown:
        raise ImapUrlError(
            f"{what} has unknown options {', '.join(unknown)}: only starttls and cafile."
        )
    starttls = False
    if "starttls" in query:
        value = query["starttls"][-1].lower()
        if value not in _TRUE | _FALSE:
            raise ImapUrlError(f"{what}: starttls must be yes or no, not {value!r}.")
        starttls = value in _TRUE
        if starttls and scheme == "imaps":
            raise ImapUrlError(f"{what}: starttls is for imap://; imaps:// is TLS from the start.")
    cafile = query["cafile"][-1] if "cafile" in query else None
    if cafile == "":
        raise ImapUrlError(f"{what}: cafile names no file.")
    return ImapMailbox(
        host=parts.hostname,
        port=port or (993 if scheme == "imaps" else 143),
        username=unquote(parts.username),
        password=unquote(parts.password),
        mailbox=mailbox,
        tls=scheme == "imaps",
        starttls=starttls,
        cafile=cafile,
    )


def check_folders(mailbox: ImapMailbox, done: str, failed: str) -> None:
    """The done and failed folders: usable names, neither the polled mailbox itself (its
    messages would come round again)."""
    check_folder_name(done, "INBOUND_IMAP_DONE_FOLDER")
    check_folder_name(failed, "INBOUND_IMAP_FAILED_FOLDER")
    for setting, name in (
        ("INBOUND_IMAP_DONE_FOLDER", done),
        ("INBOUND_IMAP_FAILED_FOLDER", failed),
    ):
        if name.upper() == mailbox.mailbox.upper():
            raise ImapUrlError(f"{setting} must not be the polled mailbox {mailbox.mailbox!r}.")
