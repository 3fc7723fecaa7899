from django.core.management.base import BaseCommand

from portal.demo.seed import DEMO_ADMIN_TOTP_SECRET, DEMO_ORGANIZATIONS, DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Load the demo data set (idempotent) and print its logins."

    def handle(self, *args: object, **options: object) -> None:
        people = seed_demo()
        tiers = {slug: tier for slug, _name, tier, *_rest in DEMO_ORGANIZATIONS}
        self.stdout.write(
            self.style.SUCCESS(f"Demo data is loaded. Logins (password for all: {DEMO_PASSWORD}):")
        )
        for person in people:
            where = (
                f"{person.organization} ({tiers[person.organization]}), {person.role}"
                if person.organization
                else "provider"
            )
            self.stdout.write(f"  {person.email:<32} {person.kind:<9} {where}")
        self.stdout.write(
            f"The admin signs in with a TOTP code: add the secret {DEMO_ADMIN_TOTP_SECRET} to an "
            "authenticator app, or run `make totp` for the current code."
        )
