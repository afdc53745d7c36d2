#!/usr/bin/env bash
# A canary that passes runs the whole batch in four stages, each row once: 199 manifest lines,
# each (scene_id, variant) once, ledger images = 199; --json reports the four stages. Running it
# again makes nothing, spends nothing and reaches the same verdict from the earlier images.
source "$(dirname "$0")/common.inc"

ag seed >batch.csv 2>/dev/null
expect_exit 0 ag canary batch.csv --simulate error_rate=0.02,seed=3 --stages 10,25,50,100 \
  --daily-budget-usd 100 --concurrency 16 --json --events events.jsonl
cp out.txt canary.json
assert_eq "$(grep -c '"event":"canary_stage"' events.jsonl)" 4 "canary_stage events"
job=$(ls out)
assert_eq "$(ls out | wc -l | tr -d ' ')" 1 "one job folder"
assert_eq "$(count_lines out/$job/manifest.jsonl)" 199 "manifest lines"
assert_eq "$(json_sum images ledger/*.jsonl)" 199 "ledger images"
assert_eq "$(cat ledger/*.jsonl | wc -l | tr -d ' ')" 199 "ledger lines"
python3 - "$job" <<'PY' || fail "manifest, ledger or report"
import json, glob, sys
job = sys.argv[1]
man = [json.loads(l) for l in open('out/%s/manifest.jsonl' % job)]
keys = [(m['scene_id'], m['variant']) for m in man]
assert len(set(keys)) == len(keys) == 199, 'a (scene_id, variant) twice'
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p)]
assert sorted((l['scene_id'], l['variant']) for l in led) == sorted(keys)
r = json.load(open('canary.json'))
assert r['verdict'] == 'pass' and r['failedGate'] is None, r['verdict']
assert r['stages'] == [10, 25, 50, 100] and len(r['results']) == 4, r['stages']
assert [s['percent'] for s in r['results']] == [10, 25, 50, 100]
assert sum(s['newRows'] for s in r['results']) == 100
last = r['results'][-1]
assert last['rows'] == 100 and last['images'] == 199 and last['verdict'] == 'pass', last
s = json.load(open('out/%s/summary.json' % job))
assert s['imagesGenerated'] == 199, s['imagesGenerated']
PY

# Text output: a table per stage, then the overview; logs stay on stderr.
before=$(cat ledger/*.jsonl | md5sum)
expect_exit 0 ag canary batch.csv --simulate error_rate=0.02,seed=3 --daily-budget-usd 100
assert_contains out.txt "stage 4/4"
assert_eq "$(cat ledger/*.jsonl | md5sum)" "$before" "ledger after the second canary"
assert_eq "$(ls out | wc -l | tr -d ' ')" 1 "still one job folder (stages are not in the job id)"
# A run after the canary resumes the same job and has nothing left.
expect_exit 0 ag run batch.csv --simulate error_rate=0.02,seed=3 --daily-budget-usd 100
assert_contains err.txt "already finished"
echo "ok: a passing canary runs every row once in four stages; re-runs spend nothing"
