"""The IMAP poller: cases by e-mail from a mailbox (INBOUND_IMAP_URL), read with the standard
library's imaplib.

Each run signs in, selects the mailbox and takes its messages in UID order (all of them but
those already flagged \\Deleted: a message a person opened in their mail client is no less a
case). For each: fetch it whole without setting \\Seen (BODY.PEEK[]) with the time the server
received it (INTERNALDATE), hand it to `ingest_message`, then flag it \\Seen and move it to the
done folder (MOVE where the server has it, else COPY, \\Deleted and EXPUNGE). Folders are
created when missing.

Each message is handled once:
- one poller per mailbox at a time: a lock (`portal.beat.named_lock`, a Redis key renewed at
  every message, or a file lock without Redis); a second poller finds it held and stops;
- `ingest_message` is idempotent by Message-ID, so a message ingested by a poller killed before
  it moved the message is ingested again as a duplicate (no second case) and moved then; and a
  poller that lost its lock (paused past its time to live) does no harm either;
- a message `ingest_message` raises on stays where it is for the next run; its failures are
  counted in the cache (per mailbox, UIDVALIDITY and UID) and at INBOUND_IMAP_MAX_ATTEMPTS it is
  moved to the failed folder, so it never blocks those after it. A lost database or a task's
  time limit is the run's failure, not the message's: the run stops and counts nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError

from cases.mailin.imap_url import ImapMailbox, ImapUrlError, parse_imap_url
from portal.beat import named_lock

logger = logging.getLogger(__name__)

FAILURES_KEPT = timedelta(days=30)
_INTERNALDATE = re.compile(
    rb'INTERNALDATE "\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"'
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class ImapError(Exception):
    """The server refused a step the run cannot do without (sign-in, select, a folder)."""


@dataclass
class PollResult:
    handled: int = 0  # ingested (or found already ingested) and moved to the done folder
    failed: int = 0  # ingest raised; left for the next run
    given_up: int = 0  # moved to the failed folder after too many failures
    skipped: bool = False  # another poller holds the mailbox


def configured_mailbox() -> ImapMailbox:
    """The mailbox of INBOUND_IMAP_URL (settings checked it at startup)."""
    if not settings.INBOUND_IMAP_URL:
        raise ImproperlyConfigured("INBOUND_IMAP_URL is not set: no mailbox to poll.")
    try:
        return parse_imap_url(settings.INBOUND_IMAP_URL)
    except ImapUrlError as error:
        raise ImproperlyConfigured(str(error)) from None


def _quote(name: str) -> str:
    """An IMAP quoted string (folder names are checked to be ASCII on one line)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _identity(mailbox: ImapMailbox) -> str:
    """A short name of the mailbox for lock and counter keys (no password in it)."""
    who = f"{mailbox.host.lower()}:{mailbox.port}:{mailbox.username}:{mailbox.mailbox}"
    return hashlib.sha256(who.encode()).hexdigest()[:16]


def mailbox_lock(mailbox: ImapMailbox) -> Any:
    identity = _identity(mailbox)
    path = Path(settings.INBOUND_IMAP_LOCK_FILE)
    return named_lock(
        f"mailin:imap:{identity}",
        settings.INBOUND_IMAP_LOCK_SECONDS,
        path.with_name(f"{path.stem}-{identity}{path.suffix}"),
    )


@contextlib.contextmanager
def connected(mailbox: ImapMailbox) -> Iterator[imaplib.IMAP4]:
    """A signed-in session (TLS verified: imaps, or imap with starttls), logged out after."""
    timeout = settings.INBOUND_IMAP_TIMEOUT_SECONDS
    context = ssl.create_default_context(cafile=mailbox.cafile)
    client: imaplib.IMAP4
    if mailbox.tls:
        client = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=timeout)
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
    try:
        if mailbox.starttls:
            client.starttls(ssl_context=context)
        client.login(mailbox.username, mailbox.password)
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.logout()


def _capabilities(client: imaplib.IMAP4) -> set[str]:
    typ, data = client.capability()
    if typ != "OK" or not data or not data[0]:
        return set(client.capabilities)
    return {word.upper() for word in data[0].decode("ascii", "replace").split()}


def _ensure_folder(client: imaplib.IMAP4, name: str) -> None:
    typ, data = client.list('""', _quote(name))
    if typ == "OK" and any(item for item in data if item):
        return
    typ, data = client.create(_quote(name))
    if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(d for d in data if isinstance(d, bytes)):
        raise ImapError(f"cannot create the folder {name!r}: {data!r}")
    with contextlib.suppress(Exception):
        client.subscribe(_quote(name))


def _uidvalidity(client: imaplib.IMAP4, name: str) -> str:
    typ, data = client.select(_quote(name))
    if typ != "OK":
        raise ImapError(f"cannot select {name!r}: {data!r}")
    typ, data = client.response("UIDVALIDITY")
    for item in data or []:
        if isinstance(item, bytes) and item.strip():
            return item.strip().decode("ascii", "replace")
    return "0"


def parse_internaldate(header: bytes) -> datetime | None:
    """The INTERNALDATE of a FETCH response, as an aware datetime (in UTC)."""
    match = _INTERNALDATE.search(header)
    if not match:
        return None
    day, month, year, hour, minute, second, sign, off_h, off_m = match.groups()
    number = _MONTHS.get(month.decode().lower())
    if number is None:
        return None
    offset = timedelta(hours=int(off_h), minutes=int(off_m))
    zone = timezone(offset if sign == b"+" else -offset)
    moment = datetime(int(year), number, int(day), int(hour), int(minute), int(second), tzinfo=zone)
    return moment.astimezone(UTC)


def _fetch(client: imaplib.IMAP4, uid: str) -> tuple[bytes, datetime | None] | None:
    """The message's bytes and INTERNALDATE; None when it is gone (another poller moved it)."""
    typ, data = client.uid("FETCH", uid, "(UID INTERNALDATE BODY.PEEK[])")
    if typ != "OK":
        return None
    for item in data or []:
        if isinstance(item, tuple) and len(item) >= 2 and b"BODY[]" in item[0]:
            return item[1], parse_internaldate(item[0])
    return None


def _move(client: imaplib.IMAP4, uid: str, folder: str, can_move: bool) -> None:
    """Flag the message \\Seen and move it out of the mailbox. A message already gone (another
    poller moved it) is no error."""
    client.uid("STORE", uid, "+FLAGS.SILENT", "(\\Seen)")
    if can_move:
        typ, data = client.uid("MOVE", uid, _quote(folder))
        if typ != "OK":
            logger.warning("IMAP MOVE of UID %s to %s refused: %r", uid, folder, data)
        return
    typ, data = client.uid("COPY", uid, _quote(folder))
    if typ != "OK":
        logger.warning("IMAP COPY of UID %s to %s refused: %r", uid, folder, data)
        return
    client.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
    client.expunge()


def _failure_key(identity: str, uidvalidity: str, uid: str) -> str:
    return f"mailin:imap:failures:{identity}:{uidvalidity}:{uid}"


def _count_failure(key: str) -> int:
    """This message's failures so far, this one included. With the cache unreachable the count
    is unknown: 1, so a message is never given up on for want of a cache."""
    timeout = int(FAILURES_KEPT.total_seconds())
    try:
        cache.add(key, 0, timeout)
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout)
            return 1
    except Exception as error:
        logger.warning("Inbound e-mail failure count not kept (cache: %s)", error)
        return 1


def _forget_failures(key: str) -> None:
    try:
        cache.delete(key)
    except Exception as error:  # it expires on its own
        logger.warning("Inbound e-mail failure count not cleared (cache: %s)", error)


def _run_level(error: BaseException) -> bool:
    """Failures of the run (database lost, time limit), not of the message at hand."""
    from celery.exceptions import SoftTimeLimitExceeded

    return isinstance(error, OperationalError | InterfaceError | SoftTimeLimitExceeded)


def poll_mailbox(
    mailbox: ImapMailbox | None = None,
    *,
    ingest: Callable[..., Any] | None = None,
    use_move: bool | None = None,
    lock: bool = True,
) -> PollResult:
    """One run over the mailbox (see the module doc). `use_move=False` forces the COPY,
    \\Deleted and EXPUNGE path; `lock=False` leaves the mailbox lock out (tests of two pollers
    relying on idempotence alone)."""
    if ingest is None:
        from cases.mailin.services import ingest_message

        ingest = ingest_message
    mailbox = mailbox or configured_mailbox()
    result = PollResult()
    mutex = mailbox_lock(mailbox) if lock else None
    if mutex is not None and not mutex.hold():
        logger.info("IMAP poll of %s skipped: another poller holds it", mailbox)
        result.skipped = True
        return result
    done = settings.INBOUND_IMAP_DONE_FOLDER
    failed = settings.INBOUND_IMAP_FAILED_FOLDER
    identity = _identity(mailbox)
    try:
        with connected(mailbox) as client:
            can_move = "MOVE" in _capabilities(client) if use_move is None else use_move
            _ensure_folder(client, done)
            _ensure_folder(client, failed)
            uidvalidity = _uidvalidity(client, mailbox.mailbox)
            typ, data = client.uid("SEARCH", "UNDELETED")
            if typ != "OK":
                raise ImapError(f"cannot search {mailbox.mailbox!r}: {data!r}")
            found = (data[0] or b"").decode("ascii", "replace").split()
            uids = found[: settings.INBOUND_IMAP_BATCH_SIZE]
            for uid in uids:
                if mutex is not None and not mutex.hold():  # renews it; lost: stop here
                    logger.warning("IMAP poll of %s lost its lock; stopping", mailbox)
                    break
                fetched = _fetch(client, uid)
                if fetched is None:
                    continue
                raw, received_at = fetched
                key = _failure_key(identity, uidvalidity, uid)
                try:
                    ingest(raw, received_at=received_at)
                except Exception as error:
                    if _run_level(error):
                        raise
                    failures = _count_failure(key)
                    if failures >= settings.INBOUND_IMAP_MAX_ATTEMPTS:
                        logger.exception(
                            "Inbound e-mail UID %s of %s failed %d times; moved to %s",
                            uid,
                            mailbox,
                            failures,
                            failed,
                        )
                        _move(client, uid, failed, can_move)
                        _forget_failures(key)
                        result.given_up += 1
                    else:
                        logger.exception(
                            "Inbound e-mail UID %s of %s failed (attempt %d of %d)",
                            uid,
                            mailbox,
                            failures,
                            settings.INBOUND_IMAP_MAX_ATTEMPTS,
                        )
                        result.failed += 1
                    continue
                _move(client, uid, done, can_move)
                _forget_failures(key)
                result.handled += 1
    finally:
        if mutex is not None:
            mutex.release()
    if result.handled or result.failed or result.given_up:
        logger.info(
            "IMAP poll of %s: %d handled, %d failed (kept for the next run), %d moved to %s",
            mailbox,
            result.handled,
            result.failed,
            result.given_up,
            failed,
        )
    return result
