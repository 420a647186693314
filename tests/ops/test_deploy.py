"""deploy/: the compose file and the Kubernetes manifests parse, and every workload has what operating it needs:
readiness and liveness probes, resource requests, 2 to 20 pods for the web and each worker, one beat."""

from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
QUEUES = {"events", "rescoring", "jobs", "periodic"}
WORKLOADS = {"Deployment", "StatefulSet"}


def manifests() -> list[dict]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in manifests() if doc["kind"] == kind}


def containers(doc: dict) -> list[dict]:
    return doc["spec"]["template"]["spec"]["containers"]


def test_the_kustomization_lists_every_manifest():
    listed = set(yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())["resources"])

    assert listed == {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}


def test_every_workload_has_probes_and_resource_requests():
    workloads = [doc for doc in manifests() if doc["kind"] in WORKLOADS]
    assert len(workloads) >= 12

    problems = [
        f"{doc['metadata']['name']}/{c['name']}: {what}"
        for doc in workloads for c in containers(doc)
        for what, ok in (("readinessProbe", "readinessProbe" in c), ("livenessProbe", "livenessProbe" in c),
                         ("cpu request", "cpu" in c.get("resources", {}).get("requests", {})),
                         ("memory request", "memory" in c.get("resources", {}).get("requests", {})))
        if not ok
    ]
    assert problems == []


def test_the_cluster_runs_web_a_worker_per_queue_beat_and_every_service():
    names = set(by_kind("Deployment")) | set(by_kind("StatefulSet"))

    assert names == {"web", "beat", *(f"worker-{q}" for q in QUEUES), "postgres", "postgres-replica", "redis",
                     "rabbitmq", "elasticsearch", "mongodb"}
    for queue in QUEUES:
        command = containers(by_kind("Deployment")[f"worker-{queue}"])[0]["command"]
        assert command[command.index("-Q") + 1] == queue
    assert by_kind("Deployment")["beat"]["spec"]["replicas"] == 1
    assert by_kind("Deployment")["beat"]["spec"]["strategy"]["type"] == "Recreate"


def test_the_web_is_ready_when_healthz_says_so():
    web = containers(by_kind("Deployment")["web"])[0]

    assert web["readinessProbe"]["httpGet"]["path"] == "/healthz"
    # alive is not ready: a database outage must not restart every web pod
    assert "httpGet" not in web["livenessProbe"]


@pytest.mark.parametrize("name", ["web", *(f"worker-{q}" for q in sorted(QUEUES))])
def test_web_and_each_worker_scale_from_2_to_20(name):
    hpa = by_kind("HorizontalPodAutoscaler")[name]

    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 20)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}


def test_the_compose_file_runs_the_same_system_with_health_checks():
    services = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]

    assert set(services) == {"web", "beat", "migrate", *(f"worker-{q}" for q in QUEUES), "postgres",
                             "postgres-replica", "redis", "rabbitmq", "elasticsearch", "mongodb"}
    assert [name for name, s in services.items() if name != "migrate" and "healthcheck" not in s] == []
    for queue in QUEUES:
        command = services[f"worker-{queue}"]["command"]
        assert command[command.index("-Q") + 1] == queue
        assert services[f"worker-{queue}"]["environment"]["CELERY_METRICS_PORT"] == "9808"
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["web"]["environment"]["LOG_FORMAT"] == "json"
