#!/usr/bin/env bash
# Safety blocks are final answers, not transient errors: in a 6-row live batch, one row's prompt is
# blocked (promptFeedback.blockReason SAFETY, fake marker [fault:block-prompt]) and one row's image
# is withheld (finishReason IMAGE_SAFETY, [fault:image-safety]). Proves: those rows end BLOCKED in
# the results CSV with the reason in the error text; each blocked prompt was requested exactly once
# (not retried: fake log); the other rows end ok with their images; exit 1 (some rows failed).
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 20
base=$(fake_url gemini)
cat >batch.csv <<'CSV'
scene_id,prompt,variants
OK-1,a teapot on clean bg,1
BLOCK-PROMPT,a forbidden thing [fault:block-prompt],1
OK-2,a chair on clean bg,2
IMAGE-SAFETY,an unsafe picture [fault:image-safety],1
OK-3,a lamp on clean bg,1
OK-4,a vase on clean bg,1
CSV
GEMINI_API_KEY=e2e-key expect_exit 1 ag run batch.csv --mode live --api-base "$base" --concurrency 4 \
  --events events.jsonl --results results.csv --json
cp out.txt summary.json
fake_get "$base/_fake/log" log.json

python3 - <<'PY' || fail "blocked rows"
import json, csv, collections
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
log = json.load(open('log.json'))
s = json.load(open('summary.json'))
per = collections.Counter(e['prompt'] for e in log)
for sid, r in rows.items():
    print('%-13s %-8s %-8s %s' % (sid, r['status'], r['error_code'], r['error']))
b, i = rows['BLOCK-PROMPT'], rows['IMAGE-SAFETY']
for r in (b, i):
    assert r['status'].upper() == 'BLOCKED' and r['error_code'] == 'BLOCKED' and r['images'] == '', r
assert 'SAFETY' in b['error'], 'the block reason is missing: %r' % b['error']
assert 'IMAGE_SAFETY' in i['error'], 'the finish reason is missing: %r' % i['error']
assert per['a forbidden thing [fault:block-prompt]'] == 1, per
assert per['an unsafe picture [fault:image-safety]'] == 1, per
for sid in ('OK-1', 'OK-2', 'OK-3', 'OK-4'):
    assert rows[sid]['status'] == 'ok' and rows[sid]['images'], rows[sid]
assert len(rows['OK-2']['images'].split()) == 2, rows['OK-2']
assert len(log) == 7 and all(e['status'] == 200 for e in log), [(e['prompt'], e['status']) for e in log]
assert s['imagesGenerated'] == 5 and s['errorsByCode'] == {'BLOCKED': 2}, s
ev = [json.loads(l) for l in open('events.jsonl') if l.strip()]
assert not [e for e in ev if e['event'] == 'retry'], 'a blocked answer was retried'
PY
echo "ok: blocked prompt and withheld image end BLOCKED with their reasons, asked once each; other rows ok; exit 1"
