"""Each performer's recordings counted once, as their credits change, rather than on
every render of their page (80,000 credits for the busiest at a million releases)."""

from collections import defaultdict

from django.db import migrations, models
from django.db.models import Count


def count_recordings(apps, schema_editor):
    Artist = apps.get_model("catalog", "Artist")
    Credit = apps.get_model("catalog", "Credit")
    counted = Count("recording_id", distinct=True)
    credits = Credit.objects.order_by()
    totals = dict(credits.values("artist_id").annotate(n=counted).values_list("artist_id", "n"))
    roles = defaultdict(dict)
    for artist_id, role, n in credits.values("artist_id", "role").annotate(n=counted).values_list(
        "artist_id", "role", "n"
    ):
        roles[artist_id][role] = n
    Artist.objects.bulk_update(
        [Artist(pk=pk, recording_count=n, role_counts=roles[pk]) for pk, n in totals.items()],
        ["recording_count", "role_counts"],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0014_credit_artist_date_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="artist",
            name="recording_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="artist",
            name="role_counts",
            field=models.JSONField(default=dict, editable=False),
        ),
        migrations.RunPython(count_recordings, migrations.RunPython.noop, elidable=False),
    ]
