#!/usr/bin/env bash
# --rpm holds over a sliding minute: 150 one-variant rows in live mode at --rpm 120 and
# --concurrency 8. The first 120 requests may go at once; the other 30 must wait until the first
# minute has passed. Proves: no 60-second window of the fake's arrival times holds more than 120
# requests, the limit is not merely a spread-out start (the run takes about a minute, not a few
# seconds), and the run completes (exit 0, 150 images). About 62 s.
#
# Arrival times are measured by the fake, after the client's start times plus a connection's
# worth of delay, which differs between requests by a millisecond or so; so a window here is
# 60 s minus 50 ms of slack. A limiter that is wrong by even one request in a minute still fails.
source "$(dirname "$0")/common.inc"
# 150 images at the default model (gemini-3.1-flash-image, $0.067 at 1K) estimate over $10, the
# default day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 50
base=$(fake_url gemini)
one_variant_batch batch.csv 150
t0=$(date +%s.%N)
GEMINI_API_KEY=e2e-key expect_exit 0 ag run batch.csv --mode live --api-base "$base" --rpm 120 \
  --concurrency 8 --json
took=$(elapsed_since "$t0")
echo "run took $took s"
cp out.txt summary.json
fake_get "$base/_fake/log" log.json

python3 - "$took" <<'PY' || fail "rpm limit"
import json, sys
took = float(sys.argv[1])
s = json.load(open('summary.json'))
log = json.load(open('log.json'))
assert s['imagesGenerated'] == 150 and s['errors'] == 0, s
ts = sorted(e['ts_ms'] for e in log)
assert len(ts) == 150, len(ts)
window, slack, limit = 60000.0, 50.0, 120
worst, j = 0, 0
for i in range(len(ts)):  # window [ts[i], ts[i] + 60 s - slack)
    while j < len(ts) and ts[j] < ts[i] + window - slack:
        j += 1
    worst = max(worst, j - i)
closest = min(ts[i + limit] - ts[i] for i in range(len(ts) - limit))
print('busiest 60 s window: %d requests (limit %d); request n+120 arrives >= %.1f ms after request n; '
      'span of arrivals %.1f s' % (worst, limit, closest, (ts[-1] - ts[0]) / 1000))
assert worst <= limit, 'a 60-second window holds %d requests (> %d)' % (worst, limit)
# 150 > 120, so the last 30 cannot start before the first minute is over.
assert ts[-1] - ts[0] >= window - slack, 'all 150 requests arrived within %.1f s' % ((ts[-1] - ts[0]) / 1000)
assert ts[limit] - ts[0] >= window - slack, 'request 121 came %.1f s after the first' % ((ts[limit] - ts[0]) / 1000)
# ...and they are not held back much longer than needed either (the limiter is not a crawl).
assert took < 80, 'the run took %.1f s' % took
PY
echo "ok: 150 requests at --rpm 120: at most 120 in any minute, run complete"
