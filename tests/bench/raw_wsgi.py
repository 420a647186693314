"""The limit: a minimal WSGI app, outside Django, running an API row's SQL.

`GET /raw/<key>` runs the statements the Django endpoint ran for that row
(from RAW_SQL_PLAN, written by plan.py), with psycopg and orjson, and answers
the rows as JSON. Writes run in a transaction that is rolled back. `/healthz`
answers for the start-up probe.
"""

import json
import os

import orjson
import psycopg

PLAN = json.loads(open(os.environ["RAW_SQL_PLAN"]).read()) if os.environ.get("RAW_SQL_PLAN") else {}
_conn = None


def _connection():
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["DATABASE_URL"])
    return _conn


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/healthz":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status":"ok"}']
    entry = PLAN.get(path.removeprefix("/raw/"))
    if entry is None:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b"{}"]
    conn = _connection()
    result = []
    with conn.cursor() as cur:
        for sql in entry["statements"]:
            if entry["write"]:
                # replayed writes may clash with rows the probe committed: skip those
                cur.execute("SAVEPOINT raw")
                try:
                    cur.execute(sql)
                except psycopg.Error:
                    cur.execute("ROLLBACK TO SAVEPOINT raw")
                    continue
            else:
                cur.execute(sql)
            if cur.description:
                cols = [d.name for d in cur.description]
                result = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    if entry["write"]:
        conn.rollback()
    else:
        conn.commit()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [orjson.dumps(result, default=str)]
