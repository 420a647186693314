"""`make bench`: the seed's performance table, measured on this machine.

Steps: make sure a PostgreSQL database holds benchmark data at the requested
scale (BENCH_LEADS, default 1,000,000; other sizes follow in proportion),
start the app under gunicorn with production settings against PostgreSQL and
Redis, drive every API row with wrk from a separate process, then measure the
database rows in process. For each API row the same SQL is also timed in the
database (EXPLAIN ANALYZE) and served by a minimal WSGI app outside Django, to
show what the framework costs. Prints a markdown table and writes it with a
JSON file to tests/bench/results/.
"""

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results"
PY = sys.executable
LEADS = int(os.environ.get("BENCH_LEADS", "1000000"))
DB_NAME = os.environ.get("BENCH_DB", f"sales_bench_{LEADS}")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE_URL = f"{PG}/{DB_NAME}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
# Production runs tasks in workers: the app publishes to RabbitMQ and a real Celery worker consumes.
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/bench")
APP_PORT, RAW_PORT = 8765, 8766
DURATION = os.environ.get("BENCH_DURATION", "10s")
LATENCY_CONNECTIONS = int(os.environ.get("BENCH_LATENCY_CONNECTIONS", "2"))
SATURATION_CONNECTIONS = int(os.environ.get("BENCH_SATURATION_CONNECTIONS", "16"))

# The seed's table: what it targets and what it reported, where the issues quote them.
SEED = {
    "GET /leads": ("p95 < 100 ms", "n/a"),
    "POST /leads": ("p95 < 100 ms", "n/a"),
    "GET /opportunities": ("p95 < 100 ms", "n/a"),
    "PUT /opportunities/:id": ("p95 < 150 ms", "n/a"),
    "GET /territories": ("p95 < 100 ms", "n/a"),
    "POST /forecasts": ("p95 < 200 ms", "n/a"),
    "lead full-text search": ("< 100 ms", "n/a"),
    "opportunity aggregation (pipeline summary)": ("< 100 ms", "45 ms (10k opps, one owner)"),
    "territory assignment (one record)": ("< 1 ms", "n/a"),
    "quota calculation (500 reps x 4 quarters)": ("< 500 ms", "n/a"),
}


def env(**extra) -> dict:
    e = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "MONGODB_URI", "ELASTICSEARCH_URL")}
    e.update(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX="bench", PYTHONPATH=str(ROOT),
             CELERY_BROKER_URL=BROKER_URL, CELERY_TASK_ALWAYS_EAGER="false")
    e.update(extra)
    return e


def run(cmd, **kw):
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=True, **kw)


def psql(sql: str) -> str:
    out = subprocess.run(["psql", f"{PG}/postgres", "-tAc", sql], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def ensure_data():
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname='{DB_NAME}'") == "1"
    if exists:
        try:
            count = subprocess.run(
                ["psql", DATABASE_URL, "-tAc", "SELECT count(*) FROM leads_lead"], capture_output=True, text=True, check=True
            ).stdout.strip()
        except subprocess.CalledProcessError:
            count = "0"
        if count == str(LEADS):
            print(f"reusing {DB_NAME} ({count} leads)")
            run([PY, "manage.py", "migrate", "--noinput", "-v0"], env=env())
            return
        psql(f"DROP DATABASE {DB_NAME}")
    psql(f"CREATE DATABASE {DB_NAME}")
    run([PY, "manage.py", "migrate", "--noinput", "-v0"], env=env())
    # One COPY of a million rows outlasts any statement timeout meant for requests.
    run([PY, "manage.py", "shell", "-c", f"from tests.bench.seed import seed; seed(leads={LEADS})"],
        env=env(DB_STATEMENT_TIMEOUT="0"))


class Worker:
    """A Celery worker on every queue (as `make worker`, in one process to spare the two cores); stopped on exit."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [str(Path(PY).parent / "celery"), "-A", "salesapp", "worker", "-Q", "events,rescoring,periodic,jobs",
             "-c", "1", "-n", "bench@%h", "-l", "warning"], cwd=ROOT, env=env(**PROD_ENV))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def wait_idle(port) -> None:
    """Return once the server answers its health check: it has worked off what wrk left in its queue."""
    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=300).read()


def ensure_vhost() -> None:
    """The broker's virtual host of the bench (a fresh machine has only `/`)."""
    vhost = BROKER_URL.rsplit("/", 1)[-1] or "/"
    listed = subprocess.run(["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True, check=True).stdout
    if vhost not in listed.split():
        run(["rabbitmqctl", "add_vhost", vhost])
        run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"])


def delivery_lag(since: str) -> dict:
    """Commit to last consumer applied, of the events the rows published that a worker consumed (ms)."""
    # Events no consumer listens to are marked applied when sent (applied_at = sent_at): left out.
    sql = ("SELECT count(*), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
           "(ORDER BY extract(epoch FROM applied_at - created_at) * 1000) FROM salesapp_outboxevent "
           f"WHERE created_at >= '{since}' AND applied_at IS NOT NULL AND applied_at <> sent_at")
    out = subprocess.run(["psql", DATABASE_URL, "-tAc", sql], capture_output=True, text=True, check=True).stdout.strip()
    count, values = out.split("|", 1)
    p50, p95, p99 = (float(v) for v in values.strip("{}").split(",")) if int(count) else (None, None, None)
    return {"name": f"delivery lag, commit to consumer applied ({count} events)", "p50": p50, "p95": p95, "p99": p99,
            "queries": "-"}


def applied_events() -> int:
    """Consumer receipts written so far: they grow only when a worker applies events."""
    return int(subprocess.run(["psql", DATABASE_URL, "-tAc", "SELECT count(*) FROM salesapp_appliedevent"],
                              capture_output=True, text=True, check=True).stdout.strip())


class Server:
    """A gunicorn process on a port; stopped on exit."""

    def __init__(self, app, port, extra_env, workers=2):
        self.port = port
        self.proc = subprocess.Popen(
            [str(Path(PY).parent / "gunicorn"), app, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env=env(**extra_env),
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                return
            except Exception:
                time.sleep(0.2)
        raise RuntimeError(f"{app} did not start on {port}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "salesapp.settings.production",
    "DJANGO_SECRET_KEY": "bench-" + "k" * 60,
    "JWT_SIGNING_KEY": "bench-jwt-" + "j" * 60,
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "API_THROTTLE_RATE": "10000000/min",
}


def prepare_requests() -> dict:
    """In process: a token, the request set per row, queries per request and the SQL each runs."""
    out = Path(tempfile.mkdtemp()) / "plan.json"
    run([PY, str(ROOT / "tests" / "bench" / "plan.py"), str(out)], env=env(**PROD_ENV))
    return json.loads(out.read_text())


LUA = r"""
local requests = {}
local i = 0
function init(args)
  local f = io.open(args[1], "r")
  local data = f:read("*a")
  f:close()
  for line in string.gmatch(data, "[^\n]+") do
    local method, path, body = string.match(line, "^(%S+)\t(%S+)\t?(.*)$")
    local headers = {}
    if args[3] then headers["Cookie"] = args[3] else headers["Authorization"] = "Bearer " .. args[2] end
    headers["Content-Type"] = "application/json"
    headers["Host"] = "127.0.0.1"
    if body == "" then body = nil end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
end
function request()
  i = i + 1
  if i > #requests then i = 1 end
  return requests[i]
end
function done(summary, latency, requests)
  io.write(string.format('BENCH {"p50": %f, "p95": %f, "p99": %f, "requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d}\n',
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk(port, row_requests, token, connections, cookie=None) -> dict:
    tmp = Path(tempfile.mkdtemp())
    (tmp / "req.lua").write_text(LUA)
    lines = [f"{r['method']}\t{r['path']}\t{json.dumps(r['body']) if r.get('body') is not None else ''}" for r in row_requests]
    (tmp / "requests.tsv").write_text("\n".join(lines) + "\n")
    threads = min(2, connections)
    # A slow answer is a latency to report, not a dropped request: wrk's 2 s default would count it as an error.
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{DURATION}", "--timeout", "30s", "-s", str(tmp / "req.lua"),
           f"http://127.0.0.1:{port}", "--", str(tmp / "requests.tsv"), token, *([cookie] if cookie else [])]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("BENCH "))
    data = json.loads(line[6:])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    data["error_rate"] = (data["status_errors"] + data["socket_errors"]) / max(1, data["requests"])
    return data


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    started = time.perf_counter()
    ensure_data()
    run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], env=env(**PROD_ENV))
    plan = prepare_requests()
    tokens = {"manager": plan["token"], "rep": plan["rep_token"]}
    session = f"{plan['session_cookie_name']}={plan['session']}"
    ensure_vhost()
    applied_before = applied_events()
    since = psql("SELECT now()")
    worker = Worker()
    app = Server("salesapp.wsgi", APP_PORT, PROD_ENV)
    raw = Server("tests.bench.raw_wsgi:application", RAW_PORT, {"RAW_SQL_PLAN": plan["raw_plan_file"]})
    rows = []
    try:
        for row in plan["api_rows"]:
            print(f"-- {row['name']}", flush=True)
            token, cookie = tokens.get(row["as"], "x"), (session if row["as"] == "browser" else None)
            ours = wrk(APP_PORT, row["requests"], token, LATENCY_CONNECTIONS, cookie)
            raw_res = wrk(RAW_PORT, [{"method": "GET", "path": f"/raw/{row['key']}"}], "x", LATENCY_CONNECTIONS)
            sat = None
            if row["read"]:
                sat = wrk(APP_PORT, row["requests"], token, SATURATION_CONNECTIONS, cookie)
                wait_idle(APP_PORT)  # requests still queued from saturation must not eat the next row's time
            rows.append({**row, "ours": ours, "raw_wsgi": raw_res, "saturation": sat})
    finally:
        app.stop()
        raw.stop()
        time.sleep(5)  # let the worker drain what the write rows published
        worker.stop()
    applied = applied_events() - applied_before
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "configuration": {
            "server": "gunicorn, 2 sync workers", "settings": PROD_ENV["DJANGO_SETTINGS_MODULE"],
            "database": "PostgreSQL", "cache": "Redis", "broker": BROKER_URL.rsplit("@", 1)[-1],
            "tasks": "Celery worker (not eager)", "events_applied_by_worker": applied, "auth": "JWT bearer",
            "as": sorted({row["as"] for row in rows}),
        },
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "sizes": plan["sizes"],
        "api": rows,
        "database": [*plan["db_rows"], delivery_lag(since)],
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    table = render(result)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"bench-{LEADS}-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    (RESULTS / f"bench-{LEADS}-{stamp}.md").write_text(table)
    print(f"written to {RESULTS}/bench-{LEADS}-{stamp}.{{json,md}}")
    failed = [f"{row['name']} ({row['ours']['status_errors']} non-2xx, {row['ours']['socket_errors']} socket errors)"
              for row in rows if not row["read"] and row["ours"]["status_errors"] + row["ours"]["socket_errors"]]
    if failed:
        sys.exit(f"write rows failed: {', '.join(failed)}")
    if not applied:
        sys.exit("no event was applied by the worker: tasks did not run in production configuration")


def _ms(v):
    return f"{v:.1f}" if isinstance(v, (int, float)) else "-"


def render(r) -> str:
    s = r["sizes"]
    out = [
        f"# Benchmark {r['date']}",
        "",
        f"{r['machine']['cores']} cores, Python {r['machine']['python']}; data: "
        + ", ".join(f"{k} {v:,}" for k, v in s.items())
        + f"; wrk {DURATION} per row, {LATENCY_CONNECTIONS} connections for latency, "
        f"{SATURATION_CONNECTIONS} at saturation; gunicorn 2 sync workers, production settings, PostgreSQL + Redis, "
        f"RabbitMQ + a Celery worker ({r['configuration']['events_applied_by_worker']:,} events applied), JWT.",
        "",
        "| row | p50 ms | p95 ms | p99 ms | req/s | non-2xx | req/s at saturation (errors) | queries/req | seed target | seed actual |"
        " raw SQL ms (db) | raw WSGI req/s | ours / raw WSGI |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["api"]:
        o, w, sat = row["ours"], row["raw_wsgi"], row["saturation"]
        target, actual = SEED.get(row["name"], ("n/a", "n/a"))
        sat_s = f"{sat['rps']:.0f} ({sat['error_rate']:.1%})" if sat else "-"
        ratio = f"{o['rps'] / w['rps']:.2f}" if w["rps"] else "-"
        out.append(
            f"| {row['name']} | {_ms(o['p50'])} | {_ms(o['p95'])} | {_ms(o['p99'])} | {o['rps']:.0f} | "
            f"{o['status_errors']} | {sat_s} | "
            f"{row['queries']} | {target} | {actual} | {_ms(row['raw_sql_ms'])} | {w['rps']:.0f} | {ratio} |"
        )
    for row in r["database"]:
        target, actual = SEED.get(row["name"], ("n/a", "n/a"))
        out.append(
            f"| {row['name']} | {_ms(row['p50'])} | {_ms(row['p95'])} | {_ms(row['p99'])} | - | - | - | "
            f"{row.get('queries', '-')} | {target} | {actual} | {_ms(row.get('raw_sql_ms'))} | - | - |"
        )
    out += ["", f"Total bench time {r['elapsed_s']} s.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    main()
