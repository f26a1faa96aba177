#!/usr/bin/env python3
"""The queries on an Apache DataFusion Ballista cluster against the embedded engine, in
the same run, on one data folder.

Usage: bench/cluster.py DATA_FOLDER LABEL [RUNS]   (a folder built by
`cxray demo --customers N --no-serve`; needs a release build with the cluster feature:
`cargo build --release --features cxray/cluster`).

Starts `cxray cluster scheduler` and two `cxray cluster executor --cores 1` on loopback
(the executors read the folder's files by path), then runs each command RUNS times
(default 3) with the embedded engine and with `--engine ballista://…`, alternating, each
one process (`journey (trips built)` with the derived data removed first): wall seconds and the process's peak RSS (GNU time); the executors' peak RSS
(VmHWM) is read at the end. Both engines' JSON results are compared (numbers to 1e-9).
Writes bench/results/cluster-LABEL.json.
"""
import json, os, platform, re, shutil, socket, statistics, subprocess, sys, tempfile, time

data, label = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
target = os.environ.get("CARGO_TARGET_DIR", "target")
binary = os.path.join(target, "release", "cxray")

# (arguments, whether the derived data are removed first so the trips are built again)
COMMANDS = [
    (["sql", "SELECT touchpoint, count(*) AS n, avg(wait_seconds) AS wait FROM interactions "
             "GROUP BY touchpoint ORDER BY touchpoint"], False),
    (["metrics", "nps", "--by", "touchpoint"], False),
    (["journey"], True),
    (["journey"], False),
    (["areas"], False),
    (["link"], False),
    (["scorecard"], False),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on {port}")


def run(args, engine):
    extra = ["--engine", engine] if engine else []
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "peak_kb=%M", binary, "--data", data, *args,
                        "--json", *extra], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"cxray {' '.join(args)} {extra} failed: {p.stderr[-2000:]}")
    peak = int(re.search(r"peak_kb=(\d+)", p.stderr).group(1))
    out = p.stdout
    return {"seconds": wall, "peak_mb": peak / 1024}, json.loads(out)


def close(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        keys = {k for k in a if not (k.endswith("seconds") or k in ("ms", "data"))}
        return keys == {k for k in b if not (k.endswith("seconds") or k in ("ms", "data"))} \
            and all(close(a[k], b[k]) for k in keys)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)
    return a == b


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


work = tempfile.mkdtemp(prefix="cxray-cluster-bench-")
port = free_port()
procs = [subprocess.Popen([binary, "cluster", "scheduler", "--bind", f"127.0.0.1:{port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
wait_for(port)
for i in range(2):
    flight, grpc = free_port(), free_port()
    procs.append(subprocess.Popen(
        [binary, "cluster", "executor", "--scheduler", f"127.0.0.1:{port}", "--port", str(flight),
         "--grpc-port", str(grpc), "--cores", "1", "--work-dir", os.path.join(work, f"e{i}")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for(flight)
engine = f"ballista://127.0.0.1:{port}"
results = []
try:
    for args, rebuild in COMMANDS:
        timings = {"embedded": [], "cluster": []}
        answers = {}
        for r in range(runs):
            order = ["embedded", "cluster"] if r % 2 == 0 else ["cluster", "embedded"]
            for which in order:
                if rebuild:
                    shutil.rmtree(os.path.join(data, "derived"), ignore_errors=True)
                timing, answer = run(args, engine if which == "cluster" else None)
                timings[which].append(timing)
                answers[which] = answer
        row = {"command": " ".join(args) + (" (trips built)" if rebuild else ""),
               "same_result": close(answers["embedded"], answers["cluster"])}
        for which, ts in timings.items():
            row[which] = {"median_seconds": statistics.median(t["seconds"] for t in ts),
                          "seconds": [round(t["seconds"], 2) for t in ts],
                          "client_peak_mb": max(t["peak_mb"] for t in ts)}
        row["cluster_over_embedded"] = row["cluster"]["median_seconds"] / row["embedded"]["median_seconds"]
        results.append(row)
        print(json.dumps(row), flush=True)
    executors_peak = [peak_rss_mb(p.pid) for p in procs[1:]]
    scheduler_peak = peak_rss_mb(procs[0].pid)
finally:
    for p in procs:
        p.kill()
        p.wait()
    shutil.rmtree(work, ignore_errors=True)

out = {
    "label": label,
    "data": data,
    "runs": runs,
    "cluster": "1 scheduler + 2 executors × 1 core, loopback, same machine",
    "executors_peak_mb": executors_peak,
    "scheduler_peak_mb": scheduler_peak,
    "commands": results,
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
}
os.makedirs("bench/results", exist_ok=True)
with open(f"bench/results/cluster-{label}.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
