from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from privacy.campaigns import mailing_export
from privacy.models import PostalCampaign


class Command(BaseCommand):
    help = "Write a postal campaign's mailing file (CSV) for the print house, and log the export."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("--out", required=True, help="File to write.")

    def handle(self, *args, campaign_id, out, **options):
        campaign = PostalCampaign.objects.filter(pk=campaign_id).first()
        if campaign is None:
            raise CommandError(f"No postal campaign {campaign_id}.")
        content, export = mailing_export(campaign)
        Path(out).write_text(content, encoding="utf-8")
        self.stdout.write(f"Wrote {export.rows} address(es) to {out} (sha256 {export.sha256}).")
