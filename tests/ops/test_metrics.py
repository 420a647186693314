"""/metrics: Prometheus text for the scraper holding METRICS_TOKEN, 401 for everyone else; and every metric the
alert rules read is one the app exports, so the rules and the code cannot drift apart."""

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from intelligence.models import ScoringModel
from salesapp import events
from salesapp.models import AppliedEvent, ConsumerFailure, ImportJob, OutboxEvent

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"
RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
# Metrics the rules read that other exporters serve, not /metrics.
EXPORTED_ELSEWHERE = {
    # written by the backup script (issue 18, backups) to node-exporter's textfile collector
    "sales_backup_last_success_timestamp_seconds": "backup script via node-exporter",
    # served by /metrics only where DATABASE_REPLICA_URL names a replica (salesapp.collectors.ReplicaCollector)
    "sales_db_replica_lag_seconds": "/metrics with a replica configured",
    "node_filesystem_avail_bytes": "node-exporter",
    "node_filesystem_size_bytes": "node-exporter",
}


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, token=TOKEN) -> dict[str, list]:
    """{sample name: [(labels, value), ...]} of one scrape."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        samples.setdefault(family.name, [])
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples, name, **labels) -> float:
    matches = [v for got, v in samples[name] if all(got.get(k) == w for k, w in labels.items())]
    assert len(matches) == 1, (name, labels, samples.get(name))
    return matches[0]


def test_without_the_token_metrics_answer_401(client, token):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert client.get("/metrics")["WWW-Authenticate"] == 'Bearer realm="metrics"'


def test_with_no_token_configured_metrics_answer_nobody(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_a_signed_in_admin_without_the_token_gets_401_too(client, token, admin_user):
    client.force_login(admin_user)
    assert client.get("/metrics").status_code == 401


def test_with_the_token_metrics_show_request_latency_per_route_and_the_outbox(client, token):
    # Given a request to the health page and an event that could not be sent three minutes ago
    client.get("/healthz")
    OutboxEvent.objects.create(name="lead.created", payload={"lead_id": 1},
                               created_at=timezone.now() - timedelta(minutes=3))
    OutboxEvent.objects.create(name="lead.created", payload={"lead_id": 2}, status=OutboxEvent.Status.DEAD)

    samples = scrape(client)

    # Then the latency histogram has the route's buckets, with the seed's 200 ms bound among them
    buckets = {labels["le"]: v for labels, v in samples["sales_http_request_duration_seconds_bucket"]
               if labels["route"] == "healthz"}
    assert buckets["0.2"] >= 1 and buckets["+Inf"] >= 1
    assert value(samples, "sales_http_requests_total", route="healthz", method="GET", status="200") >= 1
    # And the outbox shows one event waiting, about three minutes old, and one dead-lettered
    assert value(samples, "sales_outbox_pending_events") == 1
    assert 180 <= value(samples, "sales_outbox_oldest_pending_age_seconds") < 240
    assert value(samples, "sales_outbox_dead_events") == 1
    # And the SQL the request ran was timed
    assert value(samples, "sales_db_query_duration_seconds_count", database="default") >= 1


def test_consumer_lag_is_per_consumer_and_leaves_out_what_it_applied_or_dead_lettered(client, token):
    listeners = sorted(k for k, names in events.consumer_event_names().items() if "lead.created" in names)
    assert len(listeners) >= 2, "the test needs two consumers of lead.created"
    applied, behind = listeners[0], listeners[1:]
    # Given an event sent ten minutes ago that one consumer applied and the others did not
    event = OutboxEvent.objects.create(name="lead.created", payload={"lead_id": 1}, status=OutboxEvent.Status.SENT,
                                       sent_at=timezone.now() - timedelta(minutes=10))
    AppliedEvent.objects.create(consumer=applied, event_id=event.pk)
    # And an older one that the first of the others dead-lettered (out of the lag, into the dead letters)
    old = OutboxEvent.objects.create(name="lead.created", payload={"lead_id": 2}, status=OutboxEvent.Status.SENT,
                                     sent_at=timezone.now() - timedelta(hours=5))
    AppliedEvent.objects.bulk_create([AppliedEvent(consumer=k, event_id=old.pk) for k in listeners if k != behind[0]])
    ConsumerFailure.objects.create(event=old, consumer=behind[0], status=ConsumerFailure.Status.DEAD, attempts=10)

    samples = scrape(client)

    assert value(samples, "sales_consumer_lag_seconds", consumer=applied) == 0
    for key in behind:
        assert 600 <= value(samples, "sales_consumer_lag_seconds", consumer=key) < 660
    assert value(samples, "sales_consumer_dead_letters", consumer=behind[0]) == 1
    assert value(samples, "sales_consumer_dead_letters", consumer=applied) == 0


def test_a_job_running_without_a_heartbeat_is_stale_and_progress_is_counted(client, token, admin_user):
    now = timezone.now()
    ImportJob.objects.create(kind="leads", content=b"email\n", created_by=admin_user, status=ImportJob.Status.RUNNING,
                             heartbeat_at=now - timedelta(minutes=10), total=100, processed=20)
    ImportJob.objects.create(kind="leads", content=b"email\n", created_by=admin_user, status=ImportJob.Status.RUNNING,
                             heartbeat_at=now, total=100, processed=80)
    ImportJob.objects.create(kind="leads", content=b"email\n", created_by=admin_user, queued_at=now)

    samples = scrape(client)

    assert value(samples, "sales_jobs", kind="import", state="stale") == 1
    assert value(samples, "sales_jobs", kind="import", state="running") == 2
    assert value(samples, "sales_jobs", kind="import", state="waiting") == 1
    assert value(samples, "sales_jobs_progress_ratio", kind="import") == pytest.approx(0.5)


def test_the_active_scoring_models_auc_and_training_age(client, token):
    ScoringModel.objects.create(kind="deal", version=3, algorithm="lightgbm", metrics={"auc": 0.81}, is_active=True,
                                trained_at=timezone.now() - timedelta(days=2), blob="{}")
    ScoringModel.objects.create(kind="deal", version=2, algorithm="lightgbm", metrics={"auc": 0.7}, blob="{}")

    samples = scrape(client)

    assert value(samples, "sales_scoring_model_auc", kind="deal") == pytest.approx(0.81)
    assert value(samples, "sales_scoring_model_training_age_seconds", kind="deal") == pytest.approx(2 * 86400, rel=0.01)


def test_failed_sign_ins_are_counted(client, token, rep):
    before = scrape(client).get("sales_login_failures_total", [({}, 0)])[0][1]

    client.post("/login/", {"username": rep.email, "password": "not-it"})

    assert value(scrape(client), "sales_login_failures_total") == before + 1


def test_a_scrape_costs_the_same_queries_at_any_volume(client, token):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            scrape(client)
        return len(captured)

    few = queries()
    OutboxEvent.objects.bulk_create([
        OutboxEvent(id=uuid.uuid4(), name="lead.created", payload={"lead_id": n}, status=status,
                    sent_at=timezone.now() if status == OutboxEvent.Status.SENT else None)
        for n in range(300) for status in (OutboxEvent.Status.PENDING, OutboxEvent.Status.SENT)])

    assert queries() == few


def rule_metric_names() -> set[str]:
    """Every metric name an alert rule reads (a histogram's or counter's base name)."""
    names = set()
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            for name in re.findall(r"\b((?:sales|node)_[a-z_]+)\b", rule["expr"]):
                names.add(re.sub(r"_(bucket|count|sum)$", "", name))
    return names


def test_every_metric_an_alert_rule_reads_is_exported(client, token):
    exported = set(scrape(client))
    wanted = rule_metric_names()

    assert {"sales_http_request_duration_seconds", "sales_db_connections", "sales_outbox_dead_events"} <= wanted
    assert sorted(wanted - exported - set(EXPORTED_ELSEWHERE)) == []
    # A name listed as served elsewhere that a rule no longer reads is a stale entry
    assert set(EXPORTED_ELSEWHERE) <= wanted


def test_a_lockout_is_counted_once(client, token, rep):
    before = value(scrape(client), "sales_login_lockouts_total")

    for n in range(12):  # the tenth failure locks the account; the tries after it are refused, not new lockouts
        client.post("/login/", {"username": rep.email, "password": f"guess-{n}"}, REMOTE_ADDR="203.0.113.9")

    assert value(scrape(client), "sales_login_lockouts_total") == before + 1
