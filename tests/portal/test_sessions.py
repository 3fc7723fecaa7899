"""portal.sessions: Django's database sessions read by a statement compiled once: the same
session as Django's own store reads, none when expired or unknown (issue 17)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal import sessions
from portal.sessions import SessionStore
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def stored(data: dict, *, expires_in: timedelta = timedelta(hours=1)) -> str:
    store = SessionStore()
    store.update(data)
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + expires_in
    )
    return store.session_key


def test_it_reads_what_djangos_store_reads():
    key = stored({"answer": 42, "name": "세션"})
    ours, theirs = SessionStore(key), DjangoStore(key)
    assert ours.load() == theirs.load() == {"answer": 42, "name": "세션"}
    assert ours.session_key == key


def test_an_expired_or_unknown_session_reads_empty_and_drops_its_key():
    expired = stored({"answer": 42}, expires_in=timedelta(seconds=-1))
    for key in (expired, "no-such-session-key-0123456789", None):
        store = SessionStore(key)
        assert store.load() == DjangoStore(key).load() == {}
        assert store.session_key is None


def test_one_statement_with_the_key_as_a_parameter():
    key = stored({"answer": 42})
    SessionStore(key).load()  # compiled here
    with CaptureQueriesContext(connection) as queries:
        assert SessionStore(key).load() == {"answer": 42}
        assert SessionStore("another-key-0123456789").load() == {}
    assert len(queries) == 2
    # The compiled statement ran (Django's own read selects every column, with a LIMIT).
    head = sessions._statements[connection.alias][0].split(" WHERE ")[0]
    assert all(query["sql"].startswith(head) for query in queries), queries


def test_a_signed_in_user_stays_signed_in_across_requests(client, world):
    assert client.login(email=world.a.poc.email, password=PASSWORD)
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("dashboard")).status_code == 200
    client.logout()
    assert client.get(reverse("dashboard")).status_code == 302
