#!/usr/bin/env bash
# A permanent outage (every request answered 503) with --circuit-max-open 25s: once the circuit
# has been open 25 s in total the run gives up instead of waiting for ever. Proves: exit 69; every
# row the fake never saw ends as UPSTREAM_UNAVAILABLE in the results CSV (status and error_code),
# rows that were tried end failed or UPSTREAM_UNAVAILABLE, none ok; the events file has circuit
# events; nothing arrives at the fake after the run gave up; and the whole run takes at least the
# 25 s it was allowed but well under a minute. About 35 s.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 20
base=$(fake_url gemini)
fake_post "$base/_fake/faults" '{"rules":[{"fault":"503","rate":1.0}]}'
one_variant_batch batch.csv 10
t0=$(date +%s.%N)
GEMINI_API_KEY=e2e-key expect_exit 69 ag run batch.csv --mode live --api-base "$base" --concurrency 2 \
  --circuit-max-open 25s --events events.jsonl --results results.csv --json
took=$(elapsed_since "$t0")
echo "run took $took s"
assert_contains err.txt "circuit-max-open"
cp out.txt summary.json
fake_get "$base/_fake/log" log.json

python3 - "$took" <<'PY' || fail "permanent outage"
import json, csv, sys, collections
took = float(sys.argv[1])
s = json.load(open('summary.json'))
log = json.load(open('log.json'))
rows = list(csv.DictReader(open('results.csv')))
tried = {e['prompt'] for e in log}
assert all(e['status'] == 503 for e in log), collections.Counter(e['status'] for e in log)
assert len(rows) == 10, len(rows)
print('fake saw %d requests for %d of 10 rows; summary status %s, errorsByCode %s' %
      (len(log), len(tried), s.get('status'), s.get('errorsByCode')))
untried = [r for r in rows if r['prompt'] not in tried]
assert len(untried) >= 5, 'only %d rows were never tried' % len(untried)
for r in untried:
    assert r['status'].upper() == 'UPSTREAM_UNAVAILABLE' and r['error_code'] == 'UPSTREAM_UNAVAILABLE', r
for r in rows:
    assert r['status'] != 'ok' and r['images'] == '', r
    assert r['status'].upper() in ('FAILED', 'UPSTREAM_UNAVAILABLE') and r['error_code'], r
assert s['imagesGenerated'] == 0, s
assert 25 <= took < 50, 'the run took %.1f s (allowed open 25 s)' % took
ev = [json.loads(l) for l in open('events.jsonl') if l.strip()]
kinds = collections.Counter(e['event'] for e in ev)
assert kinds['circuit'] >= 2 and kinds['done'] == 1, kinds
print('status counts:', dict(collections.Counter(r['status'] for r in rows)))
PY
# Nothing more reaches the fake once the run has ended (no stray thread still retrying).
n=$(fake_get "$base/_fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
assert_eq "$n" "$(python3 -c 'import json; print(len(json.load(open("log.json"))))')" "requests after the run ended"
echo "ok: a permanent outage ends after --circuit-max-open with exit 69 and the untried rows UPSTREAM_UNAVAILABLE"
