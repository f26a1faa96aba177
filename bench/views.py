#!/usr/bin/env python3
"""The server at scale: the first full snapshot, filtered views on first load and cached,
and cached pages while other views compute.

Usage: bench/views.py DATA_FOLDER LABEL   (a folder built by `cxray demo --customers N
--no-serve`; needs a release build). Starts `cxray serve` on loopback over the folder
as `demo` or `import` left it (the journey's trips prepared; `trips_prepared` in the
output says whether they were), and measures:
- the first full snapshot: seconds until `/api/v1/scorecard` answers 200 (every page's
  analyses);
- filtered scorecards (the first segment and region by name, the largest segment and
  region, a date range, an attribute): the first load and the
  median of 20 cached loads;
- 8 different filtered views requested at once by 8 users (drivers pages, the heaviest),
  and meanwhile a cached page requested 40 times: its p50 / max against the same page
  on an idle server;
- the server's peak RSS (VmHWM) at the end.
VIEWS_HEAVY=0 leaves out the concurrent drivers views (at 10M each takes minutes).
Writes bench/results/views-LABEL.json.
"""
import json, os, platform, socket, statistics, subprocess, sys, threading, time
import urllib.error, urllib.request

data, label = sys.argv[1], sys.argv[2]
target = os.environ.get("CARGO_TARGET_DIR", "target")
binary = os.path.join(target, "release", "cxray")


def cxray(*args, stdin=None):
    return subprocess.run([binary, "--data", data, *args], input=stdin, check=True,
                          capture_output=True, text=True).stdout


def token(email):
    subprocess.run([binary, "--data", data, "user", "add", "--email", email, "--name", email,
                    "--role", "analyst", "--password-stdin"], input="benchmark password 123",
                   capture_output=True, text=True)
    out = cxray("token", "add", "--email", email, "--name", "bench", "--scopes", "read", "--json")
    return json.loads(out)["token"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(path, tok):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {tok}"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=900) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, time.perf_counter() - t


tokens = [token(f"bench{i}@example.com") for i in range(8)]
journey_builds = os.path.join(data, "derived", "journey")
trips_prepared = os.path.isdir(journey_builds) and any(
    os.path.isfile(os.path.join(journey_builds, d, "made_by.json")) for d in os.listdir(journey_builds))
port = free_port()
base = f"http://127.0.0.1:{port}"
server = subprocess.Popen([binary, "--data", data, "serve", "--bind", f"127.0.0.1:{port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
started = time.perf_counter()
while True:
    try:
        status, _ = get("/api/v1/scorecard", tokens[0])
    except OSError:
        status = 0
    if status == 200:
        break
    time.sleep(0.5)
snapshot_s = time.perf_counter() - started

segments = json.loads(cxray("sql", "--json", "SELECT DISTINCT segment FROM customers ORDER BY 1"))
regions = json.loads(cxray("sql", "--json", "SELECT DISTINCT region FROM customers ORDER BY 1"))
largest = {c: json.loads(cxray("sql", "--json", f"SELECT {c} FROM customers GROUP BY {c} "
                                          "ORDER BY count(*) DESC LIMIT 1"))[0][c]
           for c in ("segment", "region")}
filters = {
    "segment": f"segment={segments[0]['segment']}",
    "region": f"region={regions[0]['region']}",
    "largest segment": f"segment={largest['segment']}",
    "largest region": f"region={largest['region']}",
    "date range": "from=2024-01-01&to=2024-06-30",
    "attribute": "attribute=tier&value=gold",
}
views = {}
for name, q in filters.items():
    status, first = get(f"/api/v1/scorecard?{q}", tokens[0])
    cached = [get(f"/api/v1/scorecard?{q}", tokens[0])[1] for _ in range(20)]
    views[name] = {"status": status, "first_s": first, "cached_median_s": statistics.median(cached)}

page = "/api/v1/scorecard?" + filters["segment"]
idle = sorted(get(page, tokens[0])[1] for _ in range(40))
heavy = [f"/api/v1/drivers?region={r['region']}" for r in regions] + \
        [f"/api/v1/drivers?segment={s['segment']}" for s in segments] + \
        [f"/api/v1/drivers?from={y}-01-01" for y in (2023, 2024, 2025)]
heavy = heavy[:int(os.environ.get("VIEWS_HEAVY", "8"))]
answers = {}


def load(i):
    answers[heavy[i]] = get(heavy[i], tokens[i])


threads = [threading.Thread(target=load, args=(i,)) for i in range(len(heavy))]
for t in threads:
    t.start()
time.sleep(1)
busy = sorted(get(page, tokens[0])[1] for _ in range(40)) if heavy else None
for t in threads:
    t.join()
with open(f"/proc/{server.pid}/status") as f:
    peak_kb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM"))
server.terminate()
stop = time.perf_counter()
server.wait()
out = {
    "label": label,
    "trips_prepared": trips_prepared,
    "first_full_snapshot_s": snapshot_s,
    "filtered_scorecard": views,
    "cached_page_idle": {"p50_s": idle[len(idle) // 2], "max_s": idle[-1]},
    "cached_page_while_8_views_compute":
        busy and {"p50_s": busy[len(busy) // 2], "max_s": busy[-1]},
    "heavy_views": {k: {"status": s, "seconds": d} for k, (s, d) in answers.items()},
    "server_peak_rss_mb": peak_kb / 1024,
    "stop_s": time.perf_counter() - stop,
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
}
os.makedirs("bench/results", exist_ok=True)
with open(f"bench/results/views-{label}.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
