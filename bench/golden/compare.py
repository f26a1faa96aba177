import json, sys
def load(p): return json.load(open(p))
def cmp(x, y, path, out, tol, skip):
    if any(s in path for s in skip): return
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            if k not in x and k in added: continue
            if k not in x or k not in y: out.append(f"missing {path}/{k}"); continue
            cmp(x[k], y[k], f"{path}/{k}", out, tol, skip)
    elif isinstance(x, list) and isinstance(y, list):
        if len(x) != len(y): out.append(f"length {path}: {len(x)} vs {len(y)}"); return
        for i, (p, q) in enumerate(zip(x, y)): cmp(p, q, f"{path}[{i}]", out, tol, skip)
    elif isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
        if abs(x - y) > tol * max(1.0, abs(x)): out.append(f"{path}: {x} vs {y}")
    elif x != y: out.append(f"{path}: {x!r} vs {y!r}")
before, after, name, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
skip = [a for a in sys.argv[5:] if not a.startswith("+")]
added = {a[1:] for a in sys.argv[5:] if a.startswith("+")}
out = []
cmp(load(f"{before}/{name}.json"), load(f"{after}/{name}.json"), "", out, tol, skip)
print(f"{name}: {len(out)} differences"); print("\n".join(out[:15]))
