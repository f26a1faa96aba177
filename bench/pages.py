#!/usr/bin/env python3
"""Page render times once the snapshot exists: the time to the first snapshot and to the
comments' unfiltered analyses, then every main page requested 20 times by an admin (API
token), p50 and p95.

Usage: bench/pages.py DATA_FOLDER LABEL (a folder built by `cxray demo --customers N
--no-serve`; needs a release build). Writes bench/results/pages-LABEL.json.
"""
import json, os, socket, subprocess, sys, time, urllib.error, urllib.request
data, label = sys.argv[1], sys.argv[2]
binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "cxray")
def cxray(*a, stdin=None):
    return subprocess.run([binary,"--data",data,*a],input=stdin,capture_output=True,text=True).stdout
subprocess.run([binary,"--data",data,"user","add","--email","pages@example.com","--name","p","--role","admin","--password-stdin"],input="probe password 123",capture_output=True,text=True)
tok=json.loads(cxray("token","add","--email","pages@example.com","--name","pages","--scopes","read","--json"))["token"]
s=socket.socket(); s.bind(("127.0.0.1",0)); port=s.getsockname()[1]; s.close()
srv=subprocess.Popen([binary,"--data",data,"serve","--bind",f"127.0.0.1:{port}"],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
def get(p):
    t=time.perf_counter()
    req=urllib.request.Request(f"http://127.0.0.1:{port}{p}",headers={"Authorization":f"Bearer {tok}"})
    try:
        with urllib.request.urlopen(req,timeout=900) as r: r.read(); c=r.status
    except urllib.error.HTTPError as e: c=e.code
    except Exception: c=0
    return c, time.perf_counter()-t
t0=time.perf_counter()
while get("/api/v1/scorecard")[0]!=200: time.sleep(0.5)
first=round(time.perf_counter()-t0,1)
print("first snapshot", first)
# The comments' unfiltered analyses start when the snapshot is published (503 until ready).
while get("/api/v1/text/sentiment")[0]!=200: time.sleep(0.5)
comments=round(time.perf_counter()-t0,1)
print("comments ready", comments)
out={"first_snapshot_s":first,"comments_ready_s":comments}
for p in ["/","/?period=month","/?period=year","/journey","/areas","/owners","/owners/nordground","/drivers","/link","/comments","/initiatives","/report","/admin/users","/admin/targets"]:
    ts=[]; codes=set()
    for _ in range(20):
        c,dt=get(p); ts.append(dt); codes.add(c)
    ts.sort(); out[p]={"codes":sorted(codes),"p50_ms":round(ts[10]*1000,1),"p95_ms":round(ts[18]*1000,1)}
    print(p, out[p], flush=True)
srv.terminate(); srv.wait()
os.makedirs("bench/results", exist_ok=True)
json.dump(out, open(f"bench/results/pages-{label}.json", "w"), indent=1)
