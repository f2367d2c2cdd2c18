from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for an integration. The token is printed on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="what will use the token, e.g. 'marketo-prod'")

    def handle(self, *args, name: str, **options):
        if not name.strip():
            raise CommandError("give the token a name")
        issued = api_token_create(name=name, actor=None)
        self.stderr.write(f"Created token {issued.token.name!r}; it is shown only now.")
        self.stdout.write(issued.secret)
