from django.core.management.base import BaseCommand
from mailer.models import Message

from arkiv.mail import deliver_mail


class Command(BaseCommand):
    help = (
        "Deliver what waits in the outbox, here and now: mail whose delivery run never came "
        "(the task queue was unreachable when it was queued, or the worker holding it died). "
        "Safe beside the task workers: each message is locked while it is sent."
    )

    def handle(self, *args, **options):
        waiting = Message.objects.count()
        if waiting:
            deliver_mail.call(retry_deferred=True)
        self.stdout.write(f"{waiting} message(s) were waiting; {Message.objects.count()} still are.")
