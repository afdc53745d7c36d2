#!/usr/bin/env bash
# A per-day quota 429 stops the run's new requests at once (issue 15 item 5): with one request in
# flight at a time, the fake sees exactly the ok request and the 429 — no retry, nothing after —,
# the rows not made end as QUOTA_DAILY in the results, stderr names the code and when the quota
# resets (the next midnight Pacific, in UTC), and the run exits 69. A spend-based limit and a
# billing cap stop the same way with SPEND_CAP and BILLING_CAP.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
cat >b.csv <<'CSV'
scene_id,prompt,variants
A,a chair,1
B,a table [fault:429-daily],1
C,a lamp,1
D,a sofa,1
E,a rug,1
CSV
expect_exit 69 ag run b.csv --mode live --api-base "$base" --concurrency 1 --results results.csv \
  --events events.jsonl
cat err.txt
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; s = json.load(open("stats.json")); assert s["requests"] == 2, s' || fail "requests sent"
assert_contains err.txt 'stopped: QUOTA_DAILY: no new request was sent'
assert_contains err.txt 'GenerateRequestsPerDayPerProjectPerModel'
assert_contains err.txt '(midnight Pacific)'
# The reset named is the next midnight in America/Los_Angeles, in UTC.
want=$(python3 -c '
import datetime, zoneinfo
la = zoneinfo.ZoneInfo("America/Los_Angeles")
now = datetime.datetime.now(la)
nxt = datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(), la)
print(nxt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:00 UTC"))')
assert_contains err.txt "resets at $want"
python3 - <<'PY' || fail "results"
import csv, json
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
assert rows['A']['status'] == 'ok', rows['A']
for k in 'BCDE':
    assert 'QUOTA_DAILY' in str(rows[k]) and rows[k]['status'] != 'ok', rows[k]
events = [json.loads(l) for l in open('events.jsonl')]
assert not [e for e in events if e['event'] == 'retry'], 'a per-day 429 was retried'
stops = [e for e in events if e['event'] == 'quota_stop']
assert len(stops) == 1 and stops[0]['error_code'] == 'QUOTA_DAILY', stops
PY
grep -h QUOTA_DAILY ledger/*.jsonl | grep -q '"scene_id":"B"' || fail "the ledger has no QUOTA_DAILY line for B"

for kind in spend:SPEND_CAP billing:BILLING_CAP; do
  fault=${kind%%:*} code=${kind##*:}
  fake_post "$base/_fake/reset" '{}'
  sed "s/429-daily/429-$fault/" b.csv >"b-$fault.csv"
  expect_exit 69 ag run "b-$fault.csv" --mode live --api-base "$base" --concurrency 1 \
    --results "results-$fault.csv"
  fake_get "$base/_fake/stats" stats.json
  python3 -c 'import json; s = json.load(open("stats.json")); assert s["requests"] == 2, s' ||
    fail "$code: requests sent"
  assert_contains err.txt "stopped: $code: no new request was sent"
  [ "$(grep -c "$code" "results-$fault.csv")" -eq 4 ] || fail "$code: results"
done
assert_contains err.txt 'raise the cap or add credit in AI Studio'
echo "ok: a per-day quota, a spend limit and a billing cap each stopped the run after one 429 (exit 69)"
