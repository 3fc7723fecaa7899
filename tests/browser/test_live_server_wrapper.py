"""The browser tests' live server, as this folder wraps it (`_InFlight` in conftest.py), still
ends every request the way Django's own server does: in the server's thread."""

from __future__ import annotations

import gc
import threading
import urllib.request

import pytest
from django.core.signals import request_finished

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_each_answer_is_closed_in_the_servers_thread(live_server):
    finished_in: list[str] = []

    def record(**kwargs) -> None:
        finished_in.append(threading.current_thread().name)

    request_finished.connect(record, weak=False)
    try:
        # A static file (a FileResponse, closed through its file) and a page.
        for path in ("/static/portal/portal.css", "/accounts/login/"):
            with urllib.request.urlopen(f"{live_server.url}{path}", timeout=10) as answer:
                assert answer.status == 200
                answer.read()
        deadline = threading.Event()
        for _ in range(50):  # the server closes the answer just after sending it
            if len(finished_in) >= 2:
                break
            deadline.wait(0.05)
        # What the server left unclosed, the collector would close here, in the test's thread,
        # where `close_old_connections` would then close the test's own connection.
        gc.collect()
    finally:
        request_finished.disconnect(record)
    assert len(finished_in) == 2, finished_in
    assert threading.main_thread().name not in finished_in, finished_in
