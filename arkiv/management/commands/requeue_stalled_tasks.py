from django.conf import settings
from django.core.management.base import BaseCommand

from arkiv.taskqueue import requeue_stalled_tasks


class Command(BaseCommand):
    help = (
        "Queue again the tasks whose worker died while running them: those running for longer "
        f"than TASK_STALLED_MINUTES ({settings.TASK_STALLED_MINUTES}). A task that stalled "
        f"TASK_MAX_ATTEMPTS ({settings.TASK_MAX_ATTEMPTS}) times is marked failed instead."
    )

    def handle(self, *args, **options):
        requeued, failed = requeue_stalled_tasks()
        self.stdout.write(f"{requeued} stalled task(s) queued again, {failed} marked failed.")
