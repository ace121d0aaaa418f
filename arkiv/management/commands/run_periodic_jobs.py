import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from arkiv.jobs import run_due_jobs


class Command(BaseCommand):
    help = (
        "Run the periodic jobs that are due (expire unpaid orders, retry order emails, read service@ by IMAP, "
        "purge expired records, prune task results and the mail log), each on one server at a time. "
        "With --once, run what is due and exit (for cron); otherwise check every --interval seconds until "
        "SIGTERM or Ctrl-C, finishing the job in progress first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run the jobs that are due, then exit.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between passes (default 60).")

    def handle(self, *args, once, interval, **options):
        if interval < 1:
            raise CommandError("--interval is a whole number of seconds, at least 1.")
        if once:
            ran = run_due_jobs()
            self.stdout.write(f"Ran {len(ran)} job(s): {', '.join(ran) or 'none was due'}.")
            return
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, request_stop)
        self.stdout.write(f"Running periodic jobs every {interval} s; SIGTERM stops after the current job.")
        self.stdout.flush()
        while not stop.is_set():
            try:
                run_due_jobs(stop=stop)
            except Exception:  # noqa: BLE001 - e.g. the database is away: try again next pass
                logging.getLogger("arkiv.jobs").exception("Periodic jobs pass failed")
            close_old_connections()
            stop.wait(interval)
        self.stdout.write("Stopped.")
