"""Global search (reviews/search): trigram indexes for its substring matches on PostgreSQL.

Django's `icontains` on PostgreSQL is `UPPER(column::text) LIKE UPPER('%word%')`; a GIN index
of `pg_trgm` trigrams over the same expression answers it without reading every row, for
Korean words as for English ones. Other databases (SQLite) get neither the extension nor the
indexes: their search reads the rows (`CreateExtension` itself does nothing off PostgreSQL).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# (index name, table, column): the texts search reads most.
INDEXES = [
    ("search_case_subject_trgm", "cases_case", "subject"),
    ("search_case_description_trgm", "cases_case", "description"),
    ("search_caseevent_body_trgm", "cases_caseevent", "body"),
    ("search_occurrence_minutes_trgm", "reviews_occurrence", "minutes"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} "
            f"USING gin (UPPER({quote(column)}::text) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0004_occurrence_host"),
        ("cases", "0004_case_rating"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
