"""gunicorn's settings for the portal, read from the directory gunicorn starts in.

Command-line options still win; this only fills in what gunicorn's defaults get wrong for a
threaded worker (`--threads N`, which makes it a gthread worker).

A gthread worker accepts new connections while it holds fewer than `worker_connections`
(1,000 by default), and keeps a finished connection open only while it holds fewer than
`worker_connections - threads` kept-alive ones:

- with the default, a client's or a proxy's keep-alive connections pile onto whichever worker
  accepted first and the other workers idle (issue 17: at concurrency 8, 2 workers × 4 threads,
  one worker often took all 8);
- with `worker_connections = threads`, each worker takes its share, but nothing is kept alive:
  every request pays a new connection (the trivial `/ping` 0.9 → 1.3 ms).

`threads + 1` does both: a worker takes one connection more than it has threads (so the load
spreads over the workers) and keeps one idle connection open (so a client that sends its
requests one after another keeps its connection). bench/README.md has the figures.
"""

from __future__ import annotations

from typing import Any

DEFAULT_WORKER_CONNECTIONS = 1000  # gunicorn's own default


def threaded_worker_connections(threads: int, worker_connections: int) -> int:
    """The connections a worker holds: `threads + 1` unless set otherwise (see above)."""
    if threads > 1 and worker_connections == DEFAULT_WORKER_CONNECTIONS:
        return threads + 1
    return worker_connections


def on_starting(server: Any) -> None:
    cfg = server.cfg
    connections = threaded_worker_connections(cfg.threads, cfg.worker_connections)
    if connections != cfg.worker_connections:
        cfg.set("worker_connections", connections)
