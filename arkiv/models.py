"""Operational state every server shares: when each periodic job last ran."""

from django.db import models


class PeriodicJob(models.Model):
    """One row per job run by run_periodic_jobs (arkiv/jobs.py). A server claims a due job
    by moving next_run_at forward and setting running_until, under a row lock on
    PostgreSQL, so no two servers run the same job at once."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    # Set while a server runs the job; a server that died mid-run frees it when this passes.
    running_until = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_succeeded_at = models.DateTimeField(null=True, blank=True)
    # The failure of the last run ("" after a success): its type and a redacted message.
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
