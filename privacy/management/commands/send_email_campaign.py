import time

from django.core.management.base import BaseCommand, CommandError

from privacy.campaigns import campaign_send
from privacy.models import EmailCampaign


class Command(BaseCommand):
    help = "Send an email campaign to confirmed opt-ins who have not had it yet (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)

    def handle(self, *args, campaign_id, **options):
        campaign = EmailCampaign.objects.filter(pk=campaign_id).first()
        if campaign is None:
            raise CommandError(f"No email campaign {campaign_id}.")
        started = time.perf_counter()
        sent = campaign_send(campaign)
        self.stdout.write(f"Sent '{campaign}' to {sent} recipient(s) in {time.perf_counter() - started:.2f} s.")
