"""`manage.py ingest_email`: one inbound e-mail from standard input (an MTA's pipe).

Exit 0 when the message was handled, or deliberately ignored or refused; 75 (EX_TEMPFAIL) when
the database cannot be reached, so the MTA keeps the message and delivers it again later.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError

from cases.mailin.services import ingest_message

EX_TEMPFAIL = 75
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Read one RFC 5322 e-mail from standard input and turn it into an item or a reply."

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
        if len(raw) > MAX_MESSAGE_BYTES:
            self.stderr.write("ingest_email: message larger than 64 MB, ignored")
            return
        try:
            result = ingest_message(raw)
        except (OperationalError, InterfaceError) as error:
            self.stderr.write(f"ingest_email: database unavailable, try again later: {error}")
            sys.exit(EX_TEMPFAIL)
        except Exception as error:  # a fault of ours: keep the message at the MTA, say why
            logger.error("ingest_email failed: %s: %s", type(error).__name__, error)
            self.stderr.write(f"ingest_email: {type(error).__name__}: {error}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(
            f"{result.outcome.value}"
            + (f" #{result.case_id}" if result.case_id else "")
            + (f" (dropped {len(result.dropped)} attachments)" if result.dropped else "")
        )
