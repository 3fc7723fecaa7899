"""`manage.py generate_dataset`: the deterministic synthetic data set for benchmarks."""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.demo.dataset import DATASET_PASSWORD, DEFAULT_SEED, DatasetError, Sizes, generate


class Command(BaseCommand):
    help = (
        "Load a deterministic synthetic data set (default: 2,000 organizations, 3,000 "
        "engagements, 1,000,000 cases) into an empty PostgreSQL database with COPY."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = Sizes()
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument(
            "--as-of",
            type=datetime.fromisoformat,
            default=None,
            help="The data set's 'now' (ISO 8601 with offset); default: the current UTC hour.",
        )
        for name in (
            "organizations",
            "engagements",
            "managers",
            "cases",
            "open_cases",
            "occurrences",
            "time_entries",
        ):
            parser.add_argument(
                f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name)
            )
        parser.add_argument(
            "--append",
            action="store_true",
            help="Add the data set to a database that already holds data (ids after the "
            "current maximum). Refused if a data set was loaded there already.",
        )

    def handle(self, *args: object, **options: Any) -> None:
        sizes = Sizes(
            organizations=options["organizations"],
            engagements=options["engagements"],
            managers=options["managers"],
            cases=options["cases"],
            open_cases=options["open_cases"],
            occurrences=options["occurrences"],
            time_entries=options["time_entries"],
        )
        try:
            report = generate(
                sizes,
                seed=options["seed"],
                as_of=options["as_of"],
                append=options["append"],
                log=self.stdout.write,
            )
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(count for _table, count, _seconds in report.tables)
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {rows:,} rows in {report.total_seconds:.1f} s "
                f"(seed {report.seed}, as of {report.as_of.isoformat()}). "
                f"Every user's password is {DATASET_PASSWORD}."
            )
        )
