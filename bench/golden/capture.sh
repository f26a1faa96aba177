#!/usr/bin/env bash
# capture.sh BIN DATA OUT: every analysis's JSON on a demo folder.
set -uo pipefail
BIN=$1; DATA=$2; OUT=$3
mkdir -p "$OUT"
run() { local name=$1; shift; /usr/bin/time -f "$name %e s %M KB" "$BIN" --data "$DATA" "$@" --json > "$OUT/$name.json" 2>> "$OUT/errors.txt" || echo "FAILED $name" >> "$OUT/errors.txt"; }
run journey journey
run areas areas
run owner-nordground owner nordground
run drivers-defection drivers --outcome defection --resamples 20
run drivers-spend drivers --outcome spend --resamples 20
run drivers-segment drivers --outcome defection --resamples 10 --by segment
run link-window link --defection window
run link-palive link --defection palive
run nps metrics nps --by touchpoint,month
run scorecard scorecard
