#!/usr/bin/env python3
"""`cxray text sentiment`, `cxray text terms` and `cxray text topics` (the starter
taxonomy) over N comments, beside Python's vaderSentiment 3.3.2 scoring the same
comments, in the same run.

Usage: bench/text.py N [PYTHON_N]   (needs a build of cxray at $CARGO_TARGET_DIR/$PROFILE
— PROFILE release by default — and `pip install vaderSentiment==3.3.2`).
Writes N comments (deterministic: airline phrases with boosters, negation, "but",
capitals, punctuation, emoji, some personal data; 80% English, 20% German, Danish, Swedish
and Spanish; two groups) to a Parquet file, then times, as a user would call them,
`cxray text sentiment --sql "SELECT grp AS "group", comment FROM 'file'"` and
`cxray text terms --sql …` (redaction, language detection, VADER, words, stems, 1-3-grams
and log-odds) and `cxray text topics --taxonomy starter.toml --discover 0 --sql …`, with
their peak memory (the process's maximum RSS as /usr/bin/time reports it: a child forked
from this Python process would count the comments it holds). Python's
vaderSentiment scores the first PYTHON_N comments (default min(N, 200,000)), its time
scaled to N. Writes bench/results/text-N.json.
"""
import csv, json, os, platform, random, subprocess, sys, tempfile, time

n = int(sys.argv[1])
python_n = int(sys.argv[2]) if len(sys.argv) > 2 else min(n, 200_000)
target = os.environ.get("CARGO_TARGET_DIR", "target")
profile = os.environ.get("PROFILE", "release")
binary = os.path.join(target, profile, "cxray")

EN = [
    "The crew was {adv} {pos} and the boarding was {pos}",
    "My bag was delayed {n} days{p} {neg}",
    "Check-in was {adv} slow, but the staff were {pos}",
    "not {pos} at all, the seat was broken",
    "{POS} flight{p} {emoji}",
    "The lounge was kind of {neg}, nobody helped",
    "Call me on +45 {d2} {d2} {d2} {d2} about the refund",
    "Refund to {name}@example.com please, the app crashed{p}",
    "Never so {pos} a trip{p}",
    "The food was {neg} and the gate changed twice",
]
OTHER = [
    "Der Flug war {de} und das Personal freundlich",
    "Flyet var forsinket og maden var dårlig",
    "Flyget var försenat men personalen var trevlig",
    "El vuelo llegó tarde y el equipaje se perdió",
]
WORDS = {
    "adv": ["very", "extremely", "quite", "really", "somewhat", "VERY"],
    "pos": ["friendly", "helpful", "great", "good", "smooth", "excellent", "nice"],
    "POS": ["GREAT", "Great", "Lovely", "Awful", "Terrible"],
    "neg": ["terrible", "awful", "bad", "rude", "dirty", "disappointing", "slow"],
    "p": ["", "!", "!!", "?", "??", "..."],
    "emoji": ["😀", "😡", "👍", ":)", ":(", ""],
    "de": ["pünktlich", "verspätet", "gut", "schlecht"],
}


def comments(count, seed=18):
    rng = random.Random(seed)
    out, groups = [], []
    for i in range(count):
        template = rng.choice(EN) if rng.random() < 0.8 else rng.choice(OTHER)
        text = template.format(
            n=rng.randint(1, 9), d2=f"{rng.randint(0, 99):02d}", name=f"user{i}",
            **{k: rng.choice(v) for k, v in WORDS.items()})
        out.append(text)
        groups.append("detractor" if ("delayed" in text or "not" in text or rng.random() < 0.3) else "promoter")
    return out, groups


def run(args):
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.NamedTemporaryFile("w+") as rss, \
            tempfile.TemporaryFile("w+") as err:
        p = subprocess.run(["/usr/bin/time", "-o", rss.name, "-f", "%M", binary, *args],
                           stdout=out, stderr=err, text=True)
        seconds = time.perf_counter() - start
        out.seek(0), err.seek(0)
        if p.returncode != 0:
            sys.exit(f"{args}: {err.read()}")
        return seconds, int(rss.read().split()[-1]) / 1024, json.load(out)


def main():
    texts, groups = comments(n)
    with tempfile.TemporaryDirectory() as tmp:
        file = os.path.join(tmp, "comments.csv")
        with open(file, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["grp", "comment"])
            w.writerows(zip(groups, texts))
        data = os.path.join(tmp, "data")
        subprocess.run([binary, "--data", data, "init"], check=True, capture_output=True)
        query = f"SELECT grp AS \"group\", comment FROM '{file}'"
        s_time, s_mem, s = run(["--data", data, "text", "sentiment", "--sql", query, "--json"])
        t_time, t_mem, t = run(["--data", data, "text", "terms", "--sql", query, "--json"])
        taxonomy = os.path.join(tmp, "starter.toml")
        with open(taxonomy, "w") as f:
            f.write(subprocess.run([binary, "--data", data, "text", "topics"], check=True,
                                   capture_output=True, text=True).stdout)
        p_time, p_mem, p = run(["--data", data, "text", "topics", "--taxonomy", taxonomy,
                                "--discover", "0", "--sql", query, "--json"])

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    analyzer = SentimentIntensityAnalyzer()
    start = time.perf_counter()
    for text in texts[:python_n]:
        analyzer.polarity_scores(text)
    py = time.perf_counter() - start
    py_scaled = py * n / python_n
    result = {
        "comments": n,
        "build": profile,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "cxray_sentiment_s": round(s_time, 2),
        "cxray_sentiment_peak_mib": round(s_mem),
        "cxray_terms_s": round(t_time, 2),
        "cxray_terms_peak_mib": round(t_mem),
        "cxray_topics_s": round(p_time, 2),
        "cxray_topics_peak_mib": round(p_mem),
        "topics": {x["topic"]: x["comments"] for x in p["topics"]},
        "cxray_scored": s["overall"]["scored"],
        "cxray_mean": s["overall"]["mean"]["value"],
        "python_vader_comments": python_n,
        "python_vader_s": round(py, 2),
        "python_vader_s_scaled_to_n": round(py_scaled, 1),
        "sentiment_speedup": round(py_scaled / s_time, 1),
        "top_terms": [x["term"] for x in t["of_a"][:5]],
    }
    os.makedirs("bench/results", exist_ok=True)
    with open(f"bench/results/text-{n}.json", "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
