from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from portal.accounts import services
from portal.accounts.models import ApiToken, User
from portal.errors import DomainError


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (SPEC §8)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--scopes", nargs="+", default=["read"], choices=ApiToken.Scope.values)
        parser.add_argument("--name", default="command line")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="Days until it expires (default: API_TOKEN_DEFAULT_DAYS, 365 unless configured).",
        )

    def handle(self, *args: object, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with the e-mail {options['email']}.")
        days = options["expires_days"]
        try:
            _token, plain = services.api_token_create(
                user=user,
                name=options["name"],
                scopes=options["scopes"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except DomainError as error:
            raise CommandError(f"{error.detail} {error.fields}") from error
        self.stdout.write(plain)
