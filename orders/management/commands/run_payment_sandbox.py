from django.conf import settings
from django.core.management.base import BaseCommand

from orders.sandbox import PaymentSandbox, serve


class Command(BaseCommand):
    help = "Serve the local payment sandbox (a stand-in for Stripe's API and hosted payment page)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=12111)
        parser.add_argument(
            "--webhook-url",
            default="http://127.0.0.1:8000/orders/webhooks/stripe/",
            help="Where to send signed webhook events ('' for none).",
        )

    def handle(self, *args, host, port, webhook_url, **options):
        app = PaymentSandbox(
            public_url=f"http://{host}:{port}",
            webhook_url=webhook_url or None,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET or "whsec_sandbox",
        )
        server = serve(app, host, port)
        self.stdout.write(f"Payment sandbox on http://{host}:{port}/ (webhooks to {webhook_url or 'nowhere'})")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
