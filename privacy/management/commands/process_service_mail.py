import contextlib
import imaplib
import mailbox
import sys
import time
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from privacy.models import OptOutRequest
from privacy.servicemail import process_message


class Command(BaseCommand):
    help = (
        "Read mail sent to service@ and act on opt-out requests. One message on standard input (for an MTA pipe), "
        "or --mbox PATH, --maildir PATH, or --imap imaps://user:password@host/INBOX (unseen messages)."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--mbox")
        source.add_argument("--maildir")
        source.add_argument("--imap", help="imap[s]://user:password@host[:port]/MAILBOX")

    def handle(self, *args, mbox, maildir, imap, **options):
        started = time.perf_counter()
        if mbox:
            messages = (m.as_bytes() for m in mailbox.mbox(mbox, create=False))
        elif maildir:
            messages = (m.as_bytes() for m in mailbox.Maildir(maildir, factory=None, create=False))
        elif imap:
            messages = self._imap(imap)
        else:
            messages = [sys.stdin.buffer.read()]
        counts = {state: 0 for state in OptOutRequest.State.values} | {"duplicate": 0}
        for raw in messages:
            request = process_message(raw)
            counts[request.state if request else "duplicate"] += 1
        total = sum(counts.values())
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        rate = f"{total / elapsed:.0f} messages/s" if elapsed else ""
        self.stdout.write(f"Processed {total} message(s) in {elapsed:.2f} s ({rate}): {summary or 'none'}.")

    def _imap(self, url):
        parts = urlsplit(url)
        if parts.scheme not in {"imap", "imaps"} or not parts.hostname:
            raise CommandError("--imap takes imap[s]://user:password@host[:port]/MAILBOX")
        client_class = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
        port = parts.port or (993 if parts.scheme == "imaps" else 143)
        timeout = settings.SERVICE_MAIL_IMAP_TIMEOUT_SECONDS
        try:
            client = client_class(parts.hostname, port, timeout=timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise CommandError(
                f"Could not reach the IMAP server {parts.hostname}:{port} within {timeout} s: {exc}"
            ) from exc
        try:
            client.login(unquote(parts.username or ""), unquote(parts.password or ""))
            client.select(parts.path.strip("/") or "INBOX")
            _, found = client.search(None, "UNSEEN")
            for number in found[0].split():
                _, data = client.fetch(number, "(RFC822)")
                yield data[0][1]
                client.store(number, "+FLAGS", "\\Seen")
        except (OSError, imaplib.IMAP4.error) as exc:
            # What was read so far is kept and marked seen; the rest waits for the next run.
            raise CommandError(f"The IMAP server {parts.hostname}:{port} failed or stopped answering: {exc}") from exc
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()
