#!/usr/bin/env bash
# api.sh BIN DATA OUT PORT: every /api/v1 analysis endpoint's JSON.
set -u
BIN=$1; DATA=$2; OUT=$3; PORT=$4
mkdir -p "$OUT"
TOKEN=$("$BIN" --data "$DATA" token add --email admin@demo.invalid --name golden --scopes read 2>/dev/null | grep -o 'cxr_[A-Za-z0-9_-]*' | head -1)
"$BIN" --data "$DATA" serve --bind 127.0.0.1:$PORT --resamples 20 > "$OUT/serve.log" 2>&1 &
PID=$!
for i in $(seq 1 600); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$PORT/api/v1/scorecard)
  [ "$code" = 200 ] && break; sleep 1
done
echo "ready after $i s" >> "$OUT/errors.txt"
for ep in scorecard link journey areas drivers owners/nordground "scorecard?segment=business" "scorecard?segment=leisure" "scorecard?region=asia" "scorecard?region=nordics&segment=leisure" "scorecard?segment=business&from=2024-01-01" "scorecard?attribute=tier&value=gold" "journey?region=nordics&from=2024-01-01&to=2024-12-31"; do
  name=$(echo "$ep" | tr '/?&=' '____')
  curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/$ep" > "$OUT/api-$name.json"
done
kill $PID; wait $PID 2>/dev/null
