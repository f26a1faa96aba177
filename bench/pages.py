#!/usr/bin/env python3
"""Page render times of the web application on the demo world.

Usage: bench/pages.py [CUSTOMERS] [REQUESTS]   (defaults 50000 and 40; needs a release
build: `cargo build --release`). Builds a fresh demo world with the release binary, adds an
analyst, starts `cxray serve` on loopback, waits for the background analyses, signs in
through the login form like a browser (cookie + form token), then requests every page and
API endpoint REQUESTS times one after another and reports p50 / p95 / max per path, plus how
long the background analyses took. Writes bench/results/pages.json.
"""
import http.cookiejar, json, os, platform, re, shutil, socket, statistics, subprocess
import sys, tempfile, time, urllib.parse, urllib.request

customers = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
requests = int(sys.argv[2]) if len(sys.argv) > 2 else 40
target = os.environ.get("CARGO_TARGET_DIR", "target")
binary = os.path.join(target, "release", "cxray")
PASSWORD = "benchmark password 123"


def cxray(data, *args, stdin=None):
    return subprocess.run([binary, "--data", data, *args], input=stdin, check=True,
                          capture_output=True, text=True).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


work = tempfile.mkdtemp(prefix="cxray-pages-")
data = os.path.join(work, "demo")
t = time.perf_counter()
cxray(data, "demo", "--customers", str(customers), "--no-serve")
demo_s = time.perf_counter() - t
cxray(data, "user", "add", "--email", "bench@test.invalid", "--name", "bench", "--role", "analyst",
      "--password-stdin", stdin=PASSWORD)
customer = json.loads(cxray(data, "sql", "SELECT customer_id FROM customer_value LIMIT 1",
                            "--json"))[0]["customer_id"]
port = free_port()
server = subprocess.Popen([binary, "--data", data, "serve", "--bind", f"127.0.0.1:{port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
try:
    started = time.perf_counter()
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health") as r:
                if json.load(r).get("analyses_ready"):
                    break
        except OSError:
            pass
        time.sleep(0.2)
    ready_s = time.perf_counter() - started
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"email": "bench@test.invalid", "password": PASSWORD,
                                   "csrf": token, "next": "/"}).encode()
    opener.open(f"{base}/login", data=body).read()
    with opener.open(f"{base}/metrics") as r:
        metrics = r.read().decode()
    analyses_s = float(re.search(r"^cxray_analyses_seconds (\S+)$", metrics, re.M).group(1))
    paths = ["/", "/link", "/journey", "/areas", "/drivers", "/owners", "/owners/nordground",
             f"/customers?id={customer}", "/data", "/api/v1/scorecard", "/api/v1/journey",
             f"/api/v1/customers/{customer}"]
    results = {}
    for path in paths:
        opener.open(base + path).read()  # warm
        times = []
        for _ in range(requests):
            t = time.perf_counter()
            with opener.open(base + path) as r:
                r.read()
                assert r.status == 200, (path, r.status)
            times.append((time.perf_counter() - t) * 1000)
        results[path] = {"p50_ms": statistics.median(times), "p95_ms": percentile(times, 95),
                         "max_ms": max(times)}
        print(f"{path:32s} p50 {results[path]['p50_ms']:7.1f} ms  p95 {results[path]['p95_ms']:7.1f} ms")
finally:
    server.kill()
    server.wait()
    shutil.rmtree(work, ignore_errors=True)
out = {
    "customers": customers, "requests_per_path": requests, "demo_build_s": demo_s,
    "analyses_ready_s": ready_s, "analyses_s": analyses_s, "paths": results,
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
}
os.makedirs("bench/results", exist_ok=True)
with open("bench/results/pages.json", "w") as f:
    json.dump(out, f, indent=2)
print(f"analyses {analyses_s:.1f} s; ready after {ready_s:.1f} s")
