#!/usr/bin/env bash
# The survey e-mail rounds working off a backlog: the last N invitations of a demo folder
# built with surveys (`cxray demo --customers 1000000 --no-serve`) set back to pending,
# then `cxray serve` with a mail server, a public address and rounds every second, timed
# until every one is handled. The demo's customers have no e-mail column, so the address
# column is `home_airport` (no valid address): each batch costs the due read, the address
# lookup through DataFusion and the transaction, not the writing of e-mails.
# Usage: bench/survey_mail.sh DATA_FOLDER LABEL [N] (default 100,000; the folder is
# changed: use a copy). Needs a release build. Writes bench/results/survey-mail-LABEL.json.
set -euo pipefail
cd "$(dirname "$0")/.."
data="$1"; label="$2"; n="${3:-100000}"
bin="${CARGO_TARGET_DIR:-target}/release/cxray"
db="$data/cxray.db"
config="$(mktemp)"
trap 'rm -f "$config"; [ -n "${server:-}" ] && kill "$server" 2>/dev/null' EXIT
"$bin" --data "$data" survey list >/dev/null # migrates the operational database
sqlite3 "$db" "UPDATE invitations SET status = 'pending', sent_at = NULL, channel = NULL,
  expires_at = NULL, reminders = 0, reminded_at = NULL, responded_at = NULL,
  unaddressed_at = NULL WHERE id > (SELECT max(id) - $n FROM invitations)"
due=$(sqlite3 "$db" "SELECT count(*) FROM invitations WHERE status = 'pending'")
cat > "$config" <<TOML
smtp_url = "smtp://127.0.0.1:9"
mail_from = "cx@example.com"
public_url = "https://survey.example"
survey_email_column = "home_airport"
reports_every_seconds = 1
TOML
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --data "$data" --config "$config" serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
start=$(date +%s.%N)
while :; do
  sleep 1
  done_n=$(sqlite3 "$db" "SELECT count(*) FROM invitations WHERE unaddressed_at IS NOT NULL")
  [ "$done_n" -ge "$due" ] && break
done
seconds=$(echo "$(date +%s.%N) - $start" | bc)
peak=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
mkdir -p bench/results
printf '{"invitations": %s, "seconds": %.1f, "per_second": %.0f, "server_peak_kb": %s}\n' \
  "$due" "$seconds" "$(echo "$due / $seconds" | bc -l)" "$peak" | tee "bench/results/survey-mail-$label.json"
