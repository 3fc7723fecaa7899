"""Inbound e-mail records are kept INBOUND_MESSAGE_RETENTION_DAYS (cases.mailin.services
.purge_old_messages, run by beat on the `mail` queue); the record of the e-mail that raised an
item stays, since every e-mail about the item threads on its Message-ID."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cases.mailin.models import InboundMessage
from cases.mailin.outbound import original_message_id
from cases.mailin.services import Outcome, ingest_message, purge_old_messages
from cases.mailin.tasks import purge_inbound_messages
from tests.cases.conftest import engagement_with_contact
from tests.cases.test_mailin import INBOUND, mail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _inbound_address(settings):
    settings.INBOUND_EMAIL_ADDRESS = INBOUND
    settings.INBOUND_MESSAGE_RETENTION_DAYS = 30


def test_old_records_go_but_the_one_that_raised_an_item_stays(settings):
    _engagement, contact = engagement_with_contact("premium")
    now = timezone.now()
    old = now - timedelta(days=31)
    raised = ingest_message(
        mail(contact.email, message_id="<raise@customer.test>"), received_at=old
    )
    assert raised.outcome == Outcome.CREATED_CASE
    reply = mail(contact.email, f"Re: [#{raised.case_id}] Login fails", "Still failing.")
    assert ingest_message(reply, received_at=old).outcome == Outcome.COMMENT_ADDED
    stranger = ingest_message(mail("stranger@elsewhere.test"), received_at=old)
    assert stranger.outcome == Outcome.REFUSED_UNKNOWN_SENDER
    recent = ingest_message(mail("stranger@elsewhere.test", "Again"), received_at=now)

    assert purge_old_messages(now=now, batch=1) == 2  # batches of one: the loop goes on
    kept = set(InboundMessage.objects.values_list("message_key", flat=True))
    assert kept == {raised.message_key, recent.message_key}
    assert original_message_id(raised.case_id) == "<raise@customer.test>"
    assert purge_old_messages(now=now) == 0


def test_the_periodic_job_purges_and_is_scheduled(settings):
    ingest_message(mail("stranger@elsewhere.test"), received_at=timezone.now() - timedelta(days=45))
    assert purge_inbound_messages() == 1
    assert InboundMessage.objects.count() == 0
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "cases.mailin.tasks.purge_inbound_messages" in tasks


def test_a_record_within_the_retention_still_stops_a_second_delivery():
    raw = mail("stranger@elsewhere.test", message_id="<twice@elsewhere.test>")
    ingest_message(raw, received_at=timezone.now() - timedelta(days=29))
    assert purge_old_messages() == 0
    assert ingest_message(raw).outcome == Outcome.DUPLICATE
    assert settings.INBOUND_MESSAGE_RETENTION_DAYS == 30
