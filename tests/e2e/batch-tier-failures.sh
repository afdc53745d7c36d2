#!/usr/bin/env bash
# What fails in a batch, with named codes. (1) Requests that fail inside a batch that ran to its
# end fail their rows with their own codes (the fake's prompt markers: [fault:400] → MODEL_ERROR,
# [fault:image-safety] → BLOCKED), said on stderr with the row's place; exit 1; their ledger lines
# are bound to the reservation, which settles. A plain re-run sends nothing new. (2) A batch that
# ends EXPIRED fails every row with BATCH_EXPIRED, and its settle line gives the whole reservation
# back (settled 0, error_code BATCH_EXPIRED; `ledger sum` shows nothing pending).
source "$(dirname "$0")/common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20

start_fake gemini gemini_fake.py --api-key e2e-key --batch-schedule RUNNING,SUCCEEDED
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
cat >b.csv <<'CSV'
scene_id,prompt,variants
A,a red fox,1
B,a blue fox [fault:400],1
C,a green fox [fault:image-safety],1
D,a grey fox,1
CSV
run_it() { ag run "$1" --mode live --api-base "$base" --tier batch --poll-every 0s; }

expect_exit 1 run_it b.csv
assert_contains err.txt 'b.csv:3: scene_id "B" v1: MODEL_ERROR'
assert_contains err.txt 'b.csv:4: scene_id "C" v1: BLOCKED'
job=$(ls out)
assert_eq "$(count_lines "out/$job/manifest.jsonl")" 2 "images of the rows that succeeded"
python3 - <<'PY' || fail "ledger lines of the failed requests"
import json, glob
lines = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
rid = [l for l in lines if l.get('kind') == 'reserve'][0]['id']
failed = {l['scene_id']: l for l in lines if not l.get('kind') and l['status'] != 'ok'}
assert set(failed) == {'B', 'C'} and failed['B']['error_code'] == 'MODEL_ERROR' and failed['C']['error_code'] == 'BLOCKED', failed
assert all(l['reservation'] == rid for l in failed.values())
settle = [l for l in lines if l.get('kind') == 'settle']
paid = sum(round(l['cost'] * 1e6) for l in lines if l.get('reservation') == rid and not l.get('kind'))
assert len(settle) == 1 and round(settle[0]['settled'] * 1e6) == paid and settle[0]['error_code'] == '', settle
PY
expect_exit 1 run_it b.csv   # the failed rows stay failed: no new batch without --retry-failed
assert_contains err.txt "b.csv:3: scene_id \"B\" v1: BATCH_REQUEST_FAILED"
fake_get "$base/_fake/batches" batches.json
assert_eq "$(python3 -c 'import json; print(len(json.load(open("batches.json"))))')" 1 "batches after a plain re-run"

# (2) EXPIRED.
fake_post "$base/_fake/batch" '{"schedule":["PENDING","EXPIRED"]}'
one_variant_batch e.csv 3
expect_exit 1 run_it e.csv
assert_contains err.txt "BATCH_EXPIRED"
python3 - <<'PY' || fail "the expired batch's reservation was not given back"
import json, glob
lines = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
s = [l for l in lines if l.get('kind') == 'settle' and l['error_code'] == 'BATCH_EXPIRED']
assert len(s) == 1 and s[0]['settled'] == 0, s
PY
ag ledger sum ledger >sum.txt 2>&1
grep -q "reserved (pending)" sum.txt && { cat sum.txt >&2; fail "money still held after EXPIRED"; }
echo "ok: failed requests and an expired batch end with named codes; the money is given back"
