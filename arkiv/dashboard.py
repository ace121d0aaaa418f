"""What staff see first in the admin: how the shop is doing (sales and orders per day,
what sells), what needs doing (orders to ship, authorisations about to lapse, offers
running out, service@ mail waiting) and how alerts and campaigns reach people.

Every figure is aggregated in the database: the page costs the same fixed number of
queries with a hundred orders or a million (tests/test_dashboard.py)."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from catalog.models import Offer, Recording, Release, Work
from orders.admin import AUTHORISATION_DAYS, AUTHORISATION_WARNING_DAYS
from orders.models import Order, OrderLine, Status
from privacy.models import Alert, AlertDigest, CampaignDelivery, Consent, OptOutRequest, Purpose

DAYS = 90
# Figures about alerts and campaigns cover this many recent days.
RECENT_DAYS = 30
TOP = 5
# An offer from stock with this many or fewer left is "low".
LOW_STOCK = 2
LOW_STOCK_SHOWN = 10
# Orders the customer paid for (authorised at least once); refunds are taken off sales.
PAID = [Status.AUTHORISED, Status.SHIPPED, Status.PARTIALLY_REFUNDED, Status.REFUNDED]


@dataclass
class Day:
    day: datetime.date
    orders: int = 0
    sales: Decimal = Decimal("0.00")


@dataclass
class Dashboard:
    days: list[Day]
    orders_total: int
    sales_total: Decimal
    waiting_to_ship: int
    authorisations_expiring: int
    authorisations_expired: int
    top_works: list[dict]
    top_releases: list[dict]
    low_stock: list[Offer]
    low_stock_count: int
    service_queue: int
    alerts_active: int
    alert_emails_recent: int
    alert_items_recent: int
    alert_consents: int
    campaign_emails_recent: int
    promo_consents: int
    recent_days: int = RECENT_DAYS
    low_stock_level: int = LOW_STOCK
    warning_days: int = AUTHORISATION_DAYS - AUTHORISATION_WARNING_DAYS
    figures_at: datetime.datetime | None = None
    charts: dict = field(default_factory=dict)


def shop_dashboard(*, now=None):
    """Everything the admin's front page shows, in a fixed number of queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_day = today - datetime.timedelta(days=DAYS - 1)
    start = timezone.make_aware(datetime.datetime.combine(first_day, datetime.time.min))
    recent = now - datetime.timedelta(days=RECENT_DAYS)

    history = _sales_history(first_day, start, now)
    days = history["days"]

    authorised = Q(status=Status.AUTHORISED)
    work = Order.objects.aggregate(
        waiting=Count("pk", filter=authorised),
        expiring=Count(
            "pk",
            filter=authorised
            & Q(authorised_at__lte=now - datetime.timedelta(days=AUTHORISATION_WARNING_DAYS))
            & Q(authorised_at__gt=now - datetime.timedelta(days=AUTHORISATION_DAYS)),
        ),
        expired=Count(
            "pk", filter=authorised & Q(authorised_at__lte=now - datetime.timedelta(days=AUTHORISATION_DAYS))
        ),
    )

    running_out = Offer.objects.filter(is_active=True, made_to_order=False, stock__lte=LOW_STOCK)
    low_stock = list(running_out.select_related("release").order_by("stock", "sku")[:LOW_STOCK_SHOWN])
    consents = Consent.objects.filter(granted=True).aggregate(
        alerts=Count("pk", filter=Q(purpose=Purpose.ALERTS)),
        promo=Count("pk", filter=Q(purpose=Purpose.PROMO_EMAIL)),
    )
    digests = AlertDigest.objects.filter(sent_at__gte=recent).aggregate(emails=Count("pk"), items=Sum("items"))

    board = Dashboard(
        days=days,
        orders_total=sum(day.orders for day in days),
        sales_total=sum((day.sales for day in days), Decimal("0.00")),
        waiting_to_ship=work["waiting"],
        authorisations_expiring=work["expiring"],
        authorisations_expired=work["expired"],
        top_works=history["top_works"],
        top_releases=history["top_releases"],
        figures_at=history["at"],
        low_stock=low_stock,
        low_stock_count=running_out.count(),
        service_queue=OptOutRequest.objects.filter(state=OptOutRequest.State.QUEUED).count(),
        alerts_active=Alert.objects.count(),
        alert_emails_recent=digests["emails"],
        alert_items_recent=digests["items"] or 0,
        alert_consents=consents["alerts"],
        campaign_emails_recent=CampaignDelivery.objects.filter(sent_at__gte=recent).count(),
        promo_consents=consents["promo"],
    )
    board.charts = {
        "sales": bar_chart(days, value=lambda d: d.sales, describe=lambda d: f"{short(d.day)}: {d.sales} sales"),
        "orders": bar_chart(days, value=lambda d: d.orders, describe=lambda d: f"{short(d.day)}: {d.orders} orders"),
    }
    return board


def _sales_history(first_day, start, now):
    """Sales and orders per day and the best sellers since `start`: the costly part of
    the page (it reads every order and line of 90 days), kept in the shared cache for
    DASHBOARD_CACHE_SECONDS so a busy admin reads them once a few minutes."""
    key = f"arkiv:dashboard:{first_day.isoformat()}"
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if seconds:
        cached = caches["shared"].get(key)
        if cached is not None:
            return cached
    per_day = {
        row["day"]: row
        for row in Order.objects.filter(created_at__gte=start, status__in=PAID)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(orders=Count("pk"), sales=Sum(F("total") - F("amount_refunded")))
        .order_by()
    }
    days = []
    for offset in range(DAYS):
        day = first_day + datetime.timedelta(days=offset)
        row = per_day.get(day)
        days.append(Day(day, row["orders"], _cents(row["sales"])) if row else Day(day))

    sold = OrderLine.objects.filter(order__created_at__gte=start, order__status__in=PAID)
    units = Sum(F("quantity") - F("quantity_refunded"))
    by_release = sold.values(release_id=F("offer__release")).annotate(units=units).order_by("-units", "release_id")
    top_release_units = list(by_release[:TOP])
    titles = dict(
        Release.objects.filter(pk__in=[row["release_id"] for row in top_release_units]).values_list("pk", "title")
    )
    top_releases = [{**row, "release_title": titles[row["release_id"]]} for row in top_release_units]
    top_works = _top_works(by_release.order_by())
    history = {"days": days, "top_works": top_works, "top_releases": top_releases, "at": now}
    if seconds:
        caches["shared"].set(key, history, seconds)
    return history


def _top_works(by_release):
    """The works on the releases sold most: units are summed per release first (one
    small row per release), then shared out to the works each release holds, once per
    work however many of its recordings a release has."""
    releases_sql, params = by_release.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT works.work_id, SUM(sold.units) AS units
            FROM ({releases_sql}) AS sold
            JOIN (SELECT DISTINCT release_id, work_id FROM {Recording._meta.db_table}) AS works
              ON works.release_id = sold.release_id
            GROUP BY works.work_id
            ORDER BY units DESC, works.work_id
            LIMIT {TOP}
            """,
            params,
        )
        rows = cursor.fetchall()
    works = Work.objects.select_related("composer").in_bulk([work_id for work_id, _units in rows])
    return [
        {
            "work_id": work_id,
            "work_title": works[work_id].title,
            "composer": works[work_id].composer.name,
            "units": amount,
        }
        for work_id, amount in rows
    ]


def _cents(amount):
    # SQLite sums decimals as floats: round once, to cents.
    return Decimal(str(amount or 0)).quantize(Decimal("0.01"))


def short(day):
    return f"{day.day} {day:%b}"


# -- charts: plain SVG drawn here, no script and no outside library --------------------

WIDTH, HEIGHT, TOP_MARGIN, BOTTOM_MARGIN, LEFT_MARGIN = 720, 160, 14, 18, 56


def bar_chart(days, *, value, describe):
    """A bar per day, a hover title per bar, the highest value and a date every two weeks
    as labels. Colours come from the stylesheet (classes only: the CSP allows no inline style)."""
    values = [value(day) for day in days]
    top = max(values) or 1
    plot_height = HEIGHT - TOP_MARGIN - BOTTOM_MARGIN
    step = (WIDTH - LEFT_MARGIN) / len(days)
    bars = []
    for index, (day, amount) in enumerate(zip(days, values, strict=True)):
        height = round(float(amount) / float(top) * plot_height, 1)
        x = round(LEFT_MARGIN + index * step, 1)
        bars.append((x, round(TOP_MARGIN + plot_height - height, 1), round(step * 0.8, 1), height, describe(day)))
    ticks = [
        (round(LEFT_MARGIN + index * step, 1), HEIGHT - 4, short(day.day))
        for index, day in enumerate(days)
        if index % 14 == 0
    ]
    return format_html(
        '<svg class="dashboard-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<text class="label" x="{}" y="{}" text-anchor="end">{}</text>'
        '<text class="label" x="{}" y="{}" text-anchor="end">0</text>{}{}</svg>',
        WIDTH,
        HEIGHT,
        f"{describe(days[0])} to {describe(days[-1])}",
        LEFT_MARGIN,
        HEIGHT - BOTTOM_MARGIN,
        WIDTH,
        HEIGHT - BOTTOM_MARGIN,
        LEFT_MARGIN - 4,
        TOP_MARGIN + 4,
        f"{top:,.0f}",
        LEFT_MARGIN - 4,
        HEIGHT - BOTTOM_MARGIN,
        format_html_join(
            "",
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
            bars,
        ),
        format_html_join("", '<text class="label" x="{}" y="{}">{}</text>', ticks) or mark_safe(""),
    )
