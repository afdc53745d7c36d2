#!/usr/bin/env bash
# --max-spend-rate holds a live run under a spend rate (issue 15 item 5): 8 images through the
# Gemini fake with a limit of $0.20 per 2s (each image's worst case is $0.074034, its cost
# ≈ $0.0672, gemini-3.1-flash-image at 1K): in every 2-second span of the ledger's timestamps
# the spend stays at most $0.20, the run had to wait (spend_rate_wait events) and all images
# are made. One request whose worst case
# is over the whole limit is a usage error before anything is sent (the fake sees nothing).
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 100
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
one_variant_batch b.csv 8

expect_exit 2 ag run b.csv --mode live --api-base "$base" --max-spend-rate 0.01/10m
assert_contains err.txt '--max-spend-rate: one request of this batch may cost up to $0.074034'
assert_contains err.txt 'nothing was sent'
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; s = json.load(open("stats.json")); assert s["requests"] == 0, s' || fail "a request was sent"

ASSETGEN_MAX_SPEND_RATE=0.20/2s expect_exit 0 ag run b.csv --mode live --api-base "$base" \
  --concurrency 4 --events events.jsonl --results results.csv
python3 - <<'PY' || fail "spend rate"
import csv, glob, json
lines = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
lines = [l for l in lines if l.get('mode') == 'live']
assert len(lines) == 8 and all(l['status'] == 'ok' for l in lines), lines
micros = lambda l: round(float(l['cost']) * 1e6)
worst = 0
for a in lines:
    span = sum(micros(b) for b in lines if a['ts'] <= b['ts'] < a['ts'] + 2000)
    worst = max(worst, span)
assert worst <= 200000, 'a 2s span of the ledger spent $%.6f' % (worst / 1e6)
ts = sorted(l['ts'] for l in lines)
waits = [json.loads(l) for l in open('events.jsonl') if '"spend_rate_wait"' in l]
assert waits, 'no request waited'
assert ts[-1] - ts[0] >= 4000, 'eight images at $0.20 per 2s took only %d ms' % (ts[-1] - ts[0])
rows = list(csv.DictReader(open('results.csv')))
assert all(r['status'] == 'ok' for r in rows), rows
print('most spent in any 2s of ledger time: $%.6f (limit $0.20); %d waits; %d ms from first to last'
      % (worst / 1e6, len(waits), ts[-1] - ts[0]))
PY
echo "ok: --max-spend-rate kept every 2s of the ledger under \$0.20"
