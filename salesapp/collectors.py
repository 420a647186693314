"""The kernel's scrape-time metrics: outbox, consumers, long jobs, database connections and queue depths.

Each family is one query (or one broker round trip per queue), run when Prometheus scrapes, so the numbers
are as fresh as the scrape and cost nothing between scrapes. Registered from the kernel's ready().
"""

from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.db.models import Count, DateTimeField, Exists, Min, OuterRef, Q, Sum, Value
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from salesapp import events, jobs, replicas
from salesapp.celery import app, tasks_run_in_process
from salesapp.metrics import register_collector
from salesapp.models import AppliedEvent, ConsumerFailure, OutboxEvent

QUEUES = ("events", "rescoring", "jobs", "periodic")


def _age(now, then) -> float:
    return (now - then).total_seconds() if then else 0.0


class OutboxCollector:
    """Events waiting to be sent, dead-lettered, and the age of the oldest one waiting."""

    def collect(self):
        now = timezone.now()
        rows = {row["status"]: row for row in (
            OutboxEvent.objects.filter(status__in=[OutboxEvent.Status.PENDING, OutboxEvent.Status.DEAD])
            .order_by().values("status").annotate(n=Count("pk"), oldest=Min("created_at")))}
        pending = rows.get(OutboxEvent.Status.PENDING, {"n": 0, "oldest": None})
        yield GaugeMetricFamily("sales_outbox_pending_events", "Outbox events not yet sent to the broker",
                                value=pending["n"])
        yield GaugeMetricFamily("sales_outbox_oldest_pending_age_seconds",
                                "Age of the oldest outbox event not yet sent (0 when none)",
                                value=_age(now, pending["oldest"]))
        yield GaugeMetricFamily("sales_outbox_dead_events", "Outbox events dead-lettered after every send attempt",
                                value=rows.get(OutboxEvent.Status.DEAD, {"n": 0})["n"])


class ConsumerCollector:
    """Per consumer: how far behind it is, and how many of its events are dead-lettered."""

    def collect(self):
        now = timezone.now()
        lag = GaugeMetricFamily("sales_consumer_lag_seconds",
                                "Age of the oldest sent event this consumer has not applied (0 when none)",
                                labels=["consumer"])
        for consumer, oldest in self._oldest_unapplied():
            lag.add_metric([consumer], _age(now, oldest))
        yield lag
        dead = GaugeMetricFamily("sales_consumer_dead_letters",
                                 "Events this consumer could not apply after every retry (requeue in the admin)",
                                 labels=["consumer"])
        counts = dict(ConsumerFailure.objects.filter(status=ConsumerFailure.Status.DEAD).order_by()
                      .values_list("consumer").annotate(n=Count("pk")))
        for consumer in sorted(set(events.consumer_event_names()) | set(counts)):
            dead.add_metric([consumer], counts.get(consumer, 0))
        yield dead

    @staticmethod
    def _oldest_unapplied():
        """(consumer, sent_at of its oldest unapplied, not dead-lettered event) for every consumer, one query:
        a UNION of one aggregate per consumer over the small set of sent, unapplied events."""
        parts = []
        for consumer, names in sorted(events.consumer_event_names().items()):
            receipt = AppliedEvent.objects.filter(consumer=consumer, event_id=OuterRef("pk"))
            dead = ConsumerFailure.objects.filter(consumer=consumer, event_id=OuterRef("pk"),
                                                  status=ConsumerFailure.Status.DEAD)
            parts.append(
                OutboxEvent.objects.filter(status=OutboxEvent.Status.SENT, applied_at__isnull=True, name__in=names)
                .filter(~Exists(receipt), ~Exists(dead)).order_by()
                .annotate(consumer=Value(consumer)).values("consumer")
                .annotate(oldest=Min("sent_at", output_field=DateTimeField())).values_list("consumer", "oldest"))
        if not parts:
            return []
        return list(parts[0].union(*parts[1:], all=True))


class JobCollector:
    """Long jobs per kind: waiting, running, running without a heartbeat, and the progress of those running
    (for the kinds that count their work, `JobKind.progress`)."""

    def collect(self):
        stale_before = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
        count = GaugeMetricFamily("sales_jobs", "Long jobs by kind and state (waiting, running, stale: running "
                                  "without a heartbeat for JOB_STALE_SECONDS)", labels=["kind", "state"])
        progress = GaugeMetricFamily("sales_jobs_progress_ratio",
                                     "Share of the work done by the running jobs of a kind (1 when none runs)",
                                     labels=["kind"])
        for name, kind in sorted(jobs.job_kinds().items()):
            # A job a worker took has a heartbeat; one still waiting has none (a kind may wait and run in one status).
            running = Q(status=kind.running, heartbeat_at__isnull=False)
            sums = {"done": Sum(kind.progress[0], filter=running), "total": Sum(kind.progress[1], filter=running)
                    } if kind.progress else {}
            row = kind.model.objects.order_by().aggregate(
                waiting=Count("pk", filter=Q(status__in=kind.waiting, heartbeat_at__isnull=True)),
                running=Count("pk", filter=running),
                stale=Count("pk", filter=Q(status=kind.running, heartbeat_at__lt=stale_before)),
                **sums,
            )
            for state in ("waiting", "running", "stale"):
                count.add_metric([name, state], row[state])
            if kind.progress:
                progress.add_metric([name], (row["done"] or 0) / row["total"] if row["total"] else 1.0)
        yield count
        yield progress


class DatabaseCollector:
    """Open database connections: the server's count on PostgreSQL (every client of the database), this
    process's on SQLite (a file has no server to ask)."""

    def collect(self):
        family = GaugeMetricFamily("sales_db_connections", "Open connections to the database", labels=["database"])
        for alias in connections:
            connection = connections[alias]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                    family.add_metric([alias], cursor.fetchone()[0])
            else:
                family.add_metric([alias], int(connection.connection is not None))
        yield family


class QueueCollector:
    """Messages waiting in each broker queue. A broker that does not answer is `sales_broker_up 0`, and the
    scrape still answers the rest. In the embedded default tasks run in process: no queue to measure, and no
    broker that could be down (up, as /healthz says)."""

    def collect(self):
        if tasks_run_in_process():
            yield GaugeMetricFamily("sales_broker_up", "Whether the broker answered the last scrape", value=1)
            return
        depth = GaugeMetricFamily("sales_queue_messages", "Messages waiting in a broker queue", labels=["queue"])
        consumers = GaugeMetricFamily("sales_queue_consumers", "Workers consuming a broker queue", labels=["queue"])
        up = 1
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
                for queue in QUEUES:
                    waiting, workers = self._declared(conn, queue)
                    depth.add_metric([queue], waiting)
                    consumers.add_metric([queue], workers)
        except events.TRANSIENT_ERRORS:  # reported as the broker being down, below
            up = 0
        yield GaugeMetricFamily("sales_broker_up", "Whether the broker answered the last scrape", value=up)
        if up:
            yield depth
            yield consumers


    @staticmethod
    def _declared(conn, queue: str) -> tuple[int, int]:
        """(messages, consumers) of a queue; a queue nobody declared yet holds nothing and has no worker. A
        channel of its own per queue: the broker closes the channel that asked for a missing queue."""
        channel = conn.channel()
        try:
            declared = channel.queue_declare(queue=queue, passive=True)
        except conn.channel_errors:
            return 0, 0
        finally:
            if channel.is_open:
                channel.close()
        return declared.message_count, declared.consumer_count


class ReplicaCollector:
    """How far the read replica is behind (only when one is configured); +Inf when it is out of rotation."""

    def collect(self):
        lag = replicas.replica_lag_seconds()
        if lag is not None:
            yield GaugeMetricFamily("sales_db_replica_lag_seconds",
                                    "Seconds the read replica is behind the primary (+Inf: not answering)", value=lag)


def register() -> None:
    """Put the kernel's collectors under /metrics (from the kernel's ready())."""
    for collector in (OutboxCollector(), ConsumerCollector(), JobCollector(), DatabaseCollector(), QueueCollector(),
                      ReplicaCollector()):
        register_collector(collector)
