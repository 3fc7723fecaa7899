"""Cases by e-mail: the IMAP poller's Celery job (routed to the `mail` queue; in beat's
schedule only when INBOUND_IMAP_URL is set)."""

from celery import shared_task


@shared_task(name="cases.mailin.tasks.poll_imap", acks_late=True, reject_on_worker_lost=True)
def poll_imap() -> dict[str, int | bool]:
    """Read the inbound mailbox once (cases.mailin.imap). Not retried: beat runs it again
    soon, and what it did not finish is still in the mailbox."""
    from cases.mailin.imap import poll_mailbox

    result = poll_mailbox()
    return {
        "handled": result.handled,
        "failed": result.failed,
        "given_up": result.given_up,
        "skipped": result.skipped,
    }


@shared_task(name="cases.mailin.tasks.purge_inbound_messages")
def purge_inbound_messages() -> int:
    """Forget inbound e-mails past INBOUND_MESSAGE_RETENTION_DAYS (cases.mailin.services)."""
    from cases.mailin.services import purge_old_messages

    return purge_old_messages()
