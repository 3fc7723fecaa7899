"""Settings as a fresh process reads them from its environment: for tests of what settings.py
derives from environment variables (it runs once per process, so the test's own process
cannot show another environment)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def settings_process(
    code: str, *, drop: Iterable[str] = (), **values: str
) -> subprocess.CompletedProcess:
    """Run `code` after `django.setup()` in a process with this one's environment, less the
    variables in `drop`, plus `values`; its output is captured as text."""
    dropped = set(drop)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", **values)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
