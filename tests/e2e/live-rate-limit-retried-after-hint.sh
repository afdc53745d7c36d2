#!/usr/bin/env bash
# A per-minute 429 with RetryInfo "0.3s" is retried after its hint, not stopped (issue 15 item 5):
# the events file has the retry with MODEL_RATE_LIMIT and a delay of at least 300 ms, the fake's
# log has the second request at least 0.3 s after the 429, and the image is made (exit 0).
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
cat >b.csv <<'CSV'
scene_id,prompt,variants
A,a chair [fault:429-minute:0.3s*1],1
B,a table,1
CSV
expect_exit 0 ag run b.csv --mode live --api-base "$base" --concurrency 1 --events events.jsonl \
  --results results.csv
fake_get "$base/_fake/log" log.json
python3 - <<'PY' || fail "retry"
import csv, json
events = [json.loads(l) for l in open('events.jsonl')]
retries = [e for e in events if e['event'] == 'retry']
assert len(retries) == 1, retries
r = retries[0]
assert r['scene_id'] == 'A' and r['error_code'] == 'MODEL_RATE_LIMIT', r
assert 300 <= r['delay_ms'] < 10000, r
log = sorted((e for e in json.load(open('log.json')) if 'chair' in (e.get('prompt') or '')), key=lambda e: e['ts_ms'])
assert [e['status'] for e in log] == [429, 200], log
gap = log[1]['ts_ms'] - log[0]['ts_ms']
assert gap >= 300, 'retried %d ms after the 429' % gap
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
assert rows['A']['status'] == 'ok' and rows['B']['status'] == 'ok', rows
print('retried after %d ms (hint 300 ms, delay %d ms)' % (gap, r['delay_ms']))
PY
echo "ok: a per-minute 429 was retried after its RetryInfo hint"
