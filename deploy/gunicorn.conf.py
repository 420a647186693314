"""Gunicorn for the web: sync workers (threads gave no throughput and worse tails, see DESIGN.md "Speed").

Each worker process counts its own requests; prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR,
set in the image) adds them up at /metrics, and a worker that exits is marked dead so its gauges go with it.
The request log line is the app's (salesapp.request, JSON); gunicorn's access log would repeat it.
"""

import os
import shutil

from prometheus_client import multiprocess

# All interfaces of the container, which is reached only through its Service.
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Above DB_ANSWER_TIMEOUT (35 s): a statement ends with its own error, not with a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "40"))
graceful_timeout = 30
accesslog = None
errorlog = "-"
forwarded_allow_ips = "*"  # behind the cluster's ingress only


def on_starting(server):
    # Counts of a previous run in the same directory would be added to this one's.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
