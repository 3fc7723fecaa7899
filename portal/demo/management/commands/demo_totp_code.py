from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.management.base import BaseCommand, CommandError

from portal.demo.seed import DEMO_ADMIN_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo admin (its secret is public demo data)."

    def handle(self, *args: object, **options: object) -> None:
        from django.conf import settings

        if not settings.DEBUG:
            raise CommandError("Only for the demo: DEBUG is off.")
        counter = next(iter(yield_hotp_counters_from_time()))
        self.stdout.write(format_hotp_value(hotp_value(DEMO_ADMIN_TOTP_SECRET, counter)))
