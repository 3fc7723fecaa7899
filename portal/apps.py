from django.apps import AppConfig

# psycopg converts each statement's %s placeholders once and keeps the result (an LRU of 128),
# but only for statements of at most 50 parameters. Under the tenant scope a manager's queries
# carry their engagements' ids twice (the scope's list and the page's own): 66 for a manager of
# 33 engagements, so every such statement was split again on every request (3.3-3.8 ms of CPU
# per weekly board, issue 17). The statement texts are the ORM's, a handful per page and list
# size, so they cache well; the length limit (4 KB) stays psycopg's.
CACHED_STATEMENT_PARAMS = 400


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from portal.db import use_fast_timestamp_loader

        connection_created.connect(use_fast_timestamp_loader, dispatch_uid="portal_timestamps")
        try:
            from psycopg import _queries
        except ImportError:  # SQLite only
            return
        if getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", CACHED_STATEMENT_PARAMS) < (
            CACHED_STATEMENT_PARAMS
        ):
            _queries.MAX_CACHED_STATEMENT_PARAMS = CACHED_STATEMENT_PARAMS
