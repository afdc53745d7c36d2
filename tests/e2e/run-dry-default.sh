#!/usr/bin/env bash
# The embedded default: a dry run of the 100-row plan writes 199 decodable PNGs, a 199-line
# manifest and ledger lines whose images add up to 199; the same command again spends nothing.
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

ag seed >batch.csv 2>/dev/null
expect_exit 0 ag run batch.csv --results results.csv --events events.jsonl
job=$(ls out)
assert_eq "$(ls out | wc -l | tr -d ' ')" 1 "one job folder"
assert_eq "$(check_pngs out)" 199 "decodable PNG files"
assert_eq "$(count_lines out/$job/manifest.jsonl)" 199 "manifest lines"
assert_eq "$(json_sum images ledger/*.jsonl)" 199 "ledger images"
python3 - "$job" <<'PY' || fail "ledger fields and cost"
import json, glob, sys
lines = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p)]
first = list(lines[0].keys())
assert first[:6] == ['ts', 'userId', 'jobId', 'prompt', 'images', 'cost'], first
for k in ['v', 'id', 'scene_id', 'variant', 'model', 'mode', 'status', 'error_code', 'estimated', 'shard']:
    assert k in lines[0], k
assert all(l['mode'] == 'dry_run' and l['userId'] == 'e2e' and l['jobId'] == sys.argv[1] for l in lines)
assert len({l['id'] for l in lines}) == len(lines)
man = [json.loads(l) for l in open('out/%s/manifest.jsonl' % sys.argv[1])]
assert round(sum(m['cost'] for m in man), 6) == round(sum(l['cost'] for l in lines), 6)
s = json.load(open('out/%s/summary.json' % sys.argv[1]))
assert s['imagesGenerated'] == 199 and s['requests'] == 199 and s['errors'] == 0, s
PY
assert_eq "$(count_lines results.csv)" 101 "results rows"
head -1 results.csv | grep -q '^scene_id,prompt,variants,refs,status,images,cost_usd,error_code,error' || fail "results header: $(head -1 results.csv)"
grep -c '"event":"item_complete"' events.jsonl | grep -qx 199 || fail "item_complete events"
grep -q '"event":"started"' events.jsonl && grep -q '"event":"done"' events.jsonl || fail "started/done events"

# Again: resumes a finished job, makes nothing, spends nothing.
before=$(cat ledger/*.jsonl | md5sum)
expect_exit 0 ag run batch.csv --json
assert_contains err.txt "already finished"
assert_eq "$(cat ledger/*.jsonl | md5sum)" "$before" "ledger after the second run"
python3 -c 'import json; s=json.load(open("out.txt")); assert s["imagesGenerated"]==0 and s["imagesSkipped"]==199 and s["actualCostUsd"]==0, s'
echo "ok: dry run writes 199 images, manifest and ledger; a re-run spends nothing"
