#!/usr/bin/env python3
"""Ingestion API: throughput and latency under a bounded load, with a SIGKILL in the middle.

Usage: bench/ingest.py [--seconds 60] [--kill-at 30] [--rows 1000] [--threads auto|N]
                       [--probe-seconds 8]
Needs a release build (`cargo build --release -p cxray`; CXRAY_BIN or CARGO_TARGET_DIR
locate it). Python standard library only.

A fresh data folder gets an admin with an API token (scope ingest); `cxray serve` runs on
loopback (analyses computed at start, then only hourly). Client threads send
`POST /api/v1/ingest/transactions` back to back (a closed loop: each thread waits for its
answer), each batch ROWS NDJSON rows with unique order ids under its own Idempotency-Key,
re-sent with the same key until acknowledged. `--threads auto` first probes 1, 2, 4, 8
and 16 threads for PROBE seconds each on fresh folders and keeps the count with the most
rows/s: the highest rate the server sustains. The main run lasts SECONDS; at KILL-AT the
server is killed with SIGKILL and started again at once (the clients retry meanwhile).
The restarted server logs how many acknowledged rows it recovered from its write-ahead
log (rows the table did not hold when it was killed). Then the server is stopped with
SIGTERM and `cxray sql` checks that the table holds every acknowledged row exactly once.
Latency is per acknowledged request (send to answer), excluding attempts that failed
while the server was down; rows/s are also given before the kill, after the restart and
per 5 s. Writes bench/results/ingest.json.
"""
import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
CXRAY = os.environ.get("CXRAY_BIN", str(TARGET / "release" / "cxray"))


def cxray(data, *args, stdin=None):
    return subprocess.run([CXRAY, "--data", str(data), *args], input=stdin, check=True,
                          capture_output=True, text=True).stdout


def prepare(work):
    """A fresh data folder with an admin's ingest token."""
    data = Path(work) / "data"
    cxray(data, "init")
    cxray(data, "user", "add", "--email", "bench@test.invalid", "--name", "bench", "--role",
          "admin", "--password-stdin", stdin="benchmark password 123")
    token = json.loads(cxray(data, "token", "add", "--email", "bench@test.invalid", "--name",
                             "bench", "--scopes", "ingest", "--json"))["token"]
    return data, token


class Server:
    """`cxray serve` on a free loopback port; its log goes to LOG."""

    def __init__(self, data, log):
        self.log = open(log, "a")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [CXRAY, "--data", str(data), "serve", "--bind", "127.0.0.1:0", "--refresh-seconds", "3600"],
            stdout=subprocess.PIPE, stderr=self.log, text=True,
            env={**os.environ, "CXRAY_LOG": "warn,buoyant_kernel=off,cxray_store::ingest=info"})
        line = self.process.stdout.readline()
        self.addr = re.search(r"http://([^/]+)/", line).group(1)
        while True:  # answered only once the write-ahead log is recovered
            try:
                c = http.client.HTTPConnection(self.addr, timeout=60)
                c.request("GET", "/health")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.01)
        self.ready_s = time.perf_counter() - started

    def stop(self, sig):
        self.process.send_signal(sig)
        self.process.wait()
        self.log.close()


def template(rows):
    """A batch body with `@@` where the batch key goes."""
    return "".join(
        f'{{"customer_id":"c{i * 7919 % 100000}","at":"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}T{i % 24:02d}:{i % 60:02d}:00Z",'
        f'"amount":{i % 500}.{i % 100:02d},"quantity":{i % 5 + 1},"order_id":"@@-{i}","channel":"web"}}\n'
        for i in range(rows))


class Load:
    """Client threads sending batches until stopped; `addr` can change under them."""

    def __init__(self, addr, token, rows, threads):
        self.addr, self.token, self.rows = addr, token, rows
        self.template = template(rows)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.acked = 0  # batches
        self.duplicates = 0
        self.latencies = []  # (finished at, seconds)
        self.failed_attempts = 0
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(threads)]

    def start(self):
        self.started = time.perf_counter()
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join()
        self.stopped = time.perf_counter()

    def client(self, n):
        conn, conn_addr = None, None
        for b in range(10 ** 9):
            if self.stopping.is_set():
                return
            key = f"t{n}-b{b}"
            body = self.template.replace("@@", key).encode()
            while True:
                addr = self.addr
                if conn is None or conn_addr != addr:
                    conn, conn_addr = http.client.HTTPConnection(addr, timeout=60), addr
                sent = time.perf_counter()
                try:
                    conn.request("POST", "/api/v1/ingest/transactions", body=body, headers={
                        "Authorization": f"Bearer {self.token}", "Idempotency-Key": key,
                        "Content-Type": "application/x-ndjson"})
                    response = conn.getresponse()
                    reply = json.loads(response.read())
                    if response.status == 200:
                        break
                    assert response.status == 503, (response.status, reply)
                except (OSError, http.client.HTTPException):
                    conn = None
                with self.lock:
                    self.failed_attempts += 1
                time.sleep(0.05)
            done = time.perf_counter()
            with self.lock:
                self.acked += 1
                self.duplicates += reply["duplicate"]
                self.latencies.append((done, done - sent))


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def count(data):
    sql = "SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM transactions"
    row = json.loads(cxray(data, "sql", "--json", sql))[0]
    return row["n"], row["d"]


def probe(rows, threads, seconds):
    """Rows/s and latency p50/p99 (ms) with `threads` clients for `seconds` on a fresh
    folder."""
    work = tempfile.mkdtemp(prefix="cxray-ingest-probe-")
    try:
        data, token = prepare(work)
        server = Server(data, Path(work) / "server.log")
        load = Load(server.addr, token, rows, threads)
        load.start()
        time.sleep(seconds)
        load.stop()
        server.stop(signal.SIGTERM)
        latencies = [s for _, s in load.latencies]
        return {"rows_per_s": round(load.acked * rows / (load.stopped - load.started)),
                "p50_ms": round(percentile(latencies, 50) * 1000, 1),
                "p99_ms": round(percentile(latencies, 99) * 1000, 1)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--kill-at", type=float, default=30)
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--threads", default="auto")
    p.add_argument("--probe-seconds", type=float, default=8)
    args = p.parse_args()

    load_at_start = os.getloadavg()
    probes = {}
    if args.threads == "auto":
        for n in (1, 2, 4, 8, 16):
            probes[n] = probe(args.rows, n, args.probe_seconds)
            print(f"probe: {n:2d} threads {probes[n]}")
        threads = max(probes, key=lambda n: probes[n]["rows_per_s"])
    else:
        threads = int(args.threads)

    work = tempfile.mkdtemp(prefix="cxray-ingest-")
    log = Path(work) / "server.log"
    try:
        data, token = prepare(work)
        server = Server(data, log)
        load = Load(server.addr, token, args.rows, threads)
        load.start()
        time.sleep(args.kill_at)
        with load.lock:
            acked_at_kill = load.acked
        server.stop(signal.SIGKILL)
        killed = time.perf_counter()
        server = Server(data, log)
        load.addr = server.addr
        back = time.perf_counter()
        time.sleep(max(0.0, args.seconds - (back - load.started)))
        load.stop()
        server.stop(signal.SIGTERM)
        rows, distinct = count(data)
        replayed = sum(int(m) for m in re.findall(r"replayed (\d+) acknowledged rows", log.read_text()))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    acked_rows = load.acked * args.rows
    latencies = [s for _, s in load.latencies]
    per_5s = [0] * (int((load.stopped - load.started) // 5) + 1)
    for at, _ in load.latencies:
        per_5s[int((at - load.started) // 5)] += args.rows
    after = sum(1 for at, _ in load.latencies if at > back) * args.rows
    steady = [s for at, s in load.latencies if at < killed or at > back + 1]

    def ms(values, q):
        return round(percentile(values, q) * 1000, 1)

    out = {
        "seconds": round(load.stopped - load.started, 1),
        "threads": threads,
        "rows_per_batch": args.rows,
        "probes": {str(k): v for k, v in probes.items()},
        "batches_acknowledged": load.acked,
        "rows_acknowledged": acked_rows,
        "rows_per_s": round(acked_rows / (load.stopped - load.started)),
        "rows_per_s_before_kill": round(acked_at_kill * args.rows / (killed - load.started)),
        "rows_per_s_after_restart": round(after / (load.stopped - back)),
        "rows_per_s_by_5_s": [round(n / 5) for n in per_5s[:-1]],
        "latency_ms": {"p50": ms(latencies, 50), "p99": ms(latencies, 99), "max": ms(latencies, 100)},
        "latency_ms_outside_restart": {"p50": ms(steady, 50), "p99": ms(steady, 99)},
        "kill": {
            "at_s": round(killed - load.started, 1),
            "rows_acknowledged_before": acked_at_kill * args.rows,
            "rows_replayed_at_restart": replayed,
            "restart_until_answering_s": round(server.ready_s, 3),
            "down_s": round(back - killed, 3),
            "failed_attempts_while_down": load.failed_attempts,
            "resent_batches_found_durable": load.duplicates,
        },
        "check": {"rows_in_table": rows, "distinct_order_ids": distinct,
                  "ok": rows == distinct == acked_rows},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "load_average_at_start": load_at_start,
                    "load_average_at_end": os.getloadavg()},
        "cxray": subprocess.run([CXRAY, "--version"], capture_output=True, text=True).stdout.strip(),
    }
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "ingest.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    assert out["check"]["ok"], "acknowledged rows lost or doubled"


if __name__ == "__main__":
    main()
