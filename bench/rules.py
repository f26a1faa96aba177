#!/usr/bin/env python3
"""Rule evaluation after ingestion commits: what a scan costs against the commit it follows,
and what the rules add to the server's CPU time per row ingested.

Usage: bench/rules.py [--customers 20000] [--seconds 40] [--rows 500] [--threads 2] [--repeat 1]
CXRAY_BIN (or CARGO_TARGET_DIR with `--profile debug|release`) locates the binary.
Python standard library only.

Builds a demo world (`cxray demo --no-serve`), adds two rules on survey answers (NPS <= 6
anywhere, CSAT <= 2 at check_in) and gives an admin an ingest token, then starts `cxray
serve` with the ingestion and scan logs at info level and sends batches of ROWS NDJSON
answers (`POST /api/v1/ingest/responses`) back to back from THREADS clients for SECONDS.
Every commit of ingested rows logs its milliseconds (the data files' ends, the Delta
commit, the syncs, the import log); every scan that follows a commit into a watched table
logs its milliseconds (the kept session brought to the latest versions, each rule's
matches since its watermark, routed, cases opened); each commit also logs the time spent
evaluating the rules' conditions on its batches as they arrived (`matching_us`). Reported:
commits and scans (count, median and total ms), the ratio of the total scan time to the
total commit time, the evaluation while ingesting, the ratio of both to the commit time,
cases opened. The same ingestion is then run on a second copy of the world with every rule
disabled, and the server's CPU time (user + system, from /proc, from when it is idle after
its start to the end) per 1,000 rows acknowledged is compared: the difference is what
evaluating the rules costs against what ingesting the rows costs. With --repeat N the
pair is run N times, alternating, each on new worlds, and the medians compared. Writes
bench/results/rules.json.
"""
import argparse
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def cxray(binary, data, *args, stdin=None):
    return subprocess.run([binary, "--data", str(data), *args], input=stdin, check=True,
                          capture_output=True, text=True).stdout


def batch(rows, key):
    return "".join(
        f'{{"customer_id":"C{(i * 7919) % 20000 + 1:07d}","at":"2026-01-{i % 28 + 1:02d}T{i % 24:02d}:00:00Z",'
        f'"instrument":"{"nps" if i % 3 else "csat"}","score":{i % 11 if i % 3 else i % 5 + 1},'
        f'"touchpoint":"check_in","comment":"batch {key} row {i}"}}\n'
        for i in range(rows)).encode()


def send(addr, token, rows, stop, sent):
    conn = http.client.HTTPConnection(addr, timeout=60)
    n = 0
    while not stop.is_set():
        key = f"{threading.get_ident()}-{n}"
        conn.request("POST", "/api/v1/ingest/responses", body=batch(rows, key), headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": key,
            "Content-Type": "application/x-ndjson"})
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            n += 1
            sent.append(rows)


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle(pid, limit=120):
    """Waits until the server used under 0.05 s of CPU in half a second (its first snapshot done)."""
    before, waited = cpu_seconds(pid), 0.0
    while waited < limit:
        time.sleep(0.5)
        waited += 0.5
        now = cpu_seconds(pid)
        if now - before < 0.05:
            return
        before = now


def world(binary, work, customers, rules):
    data = work / ("data-rules" if rules else "data-none")
    runs = [p for p in work.glob(data.name + "-*") if p.is_dir()]
    data = data.with_name(f"{data.name}-{len(runs)}")
    cxray(binary, data, "demo", "--customers", str(customers), "--no-serve")
    if rules:
        for rule in (["--name", "Detractors", "--instrument", "nps", "--score", "<=6"],
                     ["--name", "Unhappy check-in", "--instrument", "csat", "--score", "<=2",
                      "--touchpoint", "check_in"]):
            cxray(binary, data, "trigger", "add", *rule, "--fallback-owner", "customer_care")
    else:
        for rule in json.loads(cxray(binary, data, "trigger", "list", "--json")):
            cxray(binary, data, "trigger", "disable", str(rule["id"]))
    cxray(binary, data, "user", "add", "--email", "bench@test.invalid", "--name", "bench",
          "--role", "admin", "--password-stdin", stdin="benchmark password 123")
    token = json.loads(cxray(binary, data, "token", "add", "--email", "bench@test.invalid",
                             "--name", "bench", "--scopes", "ingest", "--json"))["token"]
    return data, token


def run(binary, work, args, rules):
    data, token = world(binary, work, args.customers, rules)
    log = data.with_suffix(".log")
    with open(log, "w") as err:
        server = subprocess.Popen(
            [binary, "--data", str(data), "serve", "--bind", "127.0.0.1:0", "--refresh-seconds", "3600"],
            stdout=subprocess.PIPE, stderr=err, text=True,
            env={**os.environ, "CXRAY_LOG": "warn,buoyant_kernel=off,cxray_store::ingest=info,cxray_server::scan=info"})
        addr = re.search(r"http://([^/]+)/", server.stdout.readline()).group(1)
        idle(server.pid)
        cpu_at_start = cpu_seconds(server.pid)
        stop, sent = threading.Event(), []
        clients = [threading.Thread(target=send, args=(addr, token, args.rows, stop, sent))
                   for _ in range(args.threads)]
        load_at_start = os.getloadavg()
        started = time.perf_counter()
        for c in clients:
            c.start()
        time.sleep(args.seconds)
        stop.set()
        for c in clients:
            c.join()
        elapsed = time.perf_counter() - started
        time.sleep(5)  # the last commit and its scan
        cpu = cpu_seconds(server.pid) - cpu_at_start
        server.terminate()
        server.wait()
    text = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text())
    commits = [int(m) for m in re.findall(r"ingested rows committed.*?table=responses.*?ms=(\d+)", text)]
    matching = [int(m) / 1000 for m in re.findall(
        r"ingested rows committed.*?table=responses.*?matching_us=(\d+)", text)]
    scans = [int(m) for m in re.findall(r"rules evaluated after ingestion.*?ms=(\d+)", text)]
    opened = sum(int(m) for m in re.findall(r"rules evaluated after ingestion.*?opened=(\d+)", text))
    cases = json.loads(cxray(binary, data, "cases", "list", "--json", "--limit", "1000000"))
    return {
        "seconds": round(elapsed, 1),
        "rows_acknowledged": sum(sent),
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_1000_rows": round(1e6 * cpu / max(sum(sent), 1), 3),
        "commits": {"n": len(commits), "median_ms": statistics.median(commits) if commits else None,
                    "total_ms": sum(commits)},
        "scans": {"n": len(scans), "median_ms": statistics.median(scans) if scans else None,
                  "total_ms": sum(scans)},
        "scan_to_commit_ratio": round(sum(scans) / sum(commits), 3) if commits and scans else None,
        "matching_while_ingesting": {"median_ms": statistics.median(matching) if matching else None,
                                     "total_ms": round(sum(matching), 1)},
        "evaluation_to_commit_ratio": round((sum(scans) + sum(matching)) / sum(commits), 3)
        if commits else None,
        "cases_opened_by_scans": opened,
        "cases_in_database": len(cases),
        "load_average_at_start": load_at_start,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--customers", type=int, default=20000)
    p.add_argument("--seconds", type=float, default=40)
    p.add_argument("--rows", type=int, default=500)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--profile", default="release")
    args = p.parse_args()
    binary = os.environ.get("CXRAY_BIN", str(TARGET / args.profile / "cxray"))
    work = Path(tempfile.mkdtemp(prefix="cxray-rules-"))
    pairs = [(run(binary, work, args, rules=True), run(binary, work, args, rules=False))
             for _ in range(args.repeat)]
    per_row = [tuple(r["server_cpu_ms_per_1000_rows"] for r in pair) for pair in pairs]
    medians = [statistics.median(side) for side in zip(*per_row)]
    out = {
        "customers": args.customers,
        "threads": args.threads,
        "rows_per_batch": args.rows,
        "with_rules": [with_rules for with_rules, _ in pairs],
        "without_rules": [without for _, without in pairs],
        "server_cpu_ms_per_1000_rows_medians": {"with_rules": medians[0], "without_rules": medians[1]},
        "rules_cpu_overhead": round(medians[0] / medians[1] - 1, 3),
        "rules_cpu_overhead_per_pair": [round(w / n - 1, 3) for w, n in per_row],
        "profile": "custom" if "CXRAY_BIN" in os.environ else args.profile,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "load_average_at_end": os.getloadavg()},
        "cxray": subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip(),
    }
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "rules.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
