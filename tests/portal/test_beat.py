"""Beat's scheduler touches its heartbeat file at every tick (the compose healthcheck's proof)."""

import os
import time

from portal.beat import HeartbeatScheduler
from portal.celery import app


def test_every_tick_touches_the_heartbeat_file(settings, tmp_path):
    heartbeat = tmp_path / "celerybeat-heartbeat"
    settings.BEAT_HEARTBEAT_FILE = str(heartbeat)
    assert app.conf.beat_scheduler == "portal.beat:HeartbeatScheduler"
    assert app.conf.beat_max_loop_interval == 60
    scheduler = HeartbeatScheduler(app, schedule_filename=str(tmp_path / "schedule"), lazy=False)
    try:
        assert not heartbeat.exists()
        interval = scheduler.tick()
        assert heartbeat.exists()
        assert 0 <= interval <= 60
        os.utime(heartbeat, (time.time() - 3600, time.time() - 3600))
        scheduler.tick()
        assert time.time() - heartbeat.stat().st_mtime < 60
    finally:
        scheduler.close()
