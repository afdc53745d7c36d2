#!/usr/bin/env bash
# What fails in a Vertex batch, with named codes. (1) Rows that fail inside a job that ran to its
# end (the prediction line's `status`: a [fault:400] marker → MODEL_ERROR; a per-request error
# set at the fake for one key → its own code; [fault:image-safety] → BLOCKED) fail with their row
# named on stderr; exit 1; their ledger lines are bound to the reservation, which settles to what
# was paid. (2) A job that ends FAILED, EXPIRED or CANCELLED fails every row of it with
# BATCH_FAILED, BATCH_EXPIRED or BATCH_CANCELLED, and its settle line gives the whole reservation
# back (settled 0; `ledger sum` shows nothing pending).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/vertex-batch-common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20
start_vertex_batch_fakes
cat >b.csv <<'CSV'
scene_id,prompt,variants
A,a red fox,1
B,a blue fox [fault:400],1
C,a green fox [fault:image-safety],1
D,a grey fox,1
E,a white fox,1
CSV
vertex_knob '{"errors":{"errs/E/1":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded."}}}'
run_it() { ag run "$1" "${vflags[@]}" --tier batch --poll-every 0s --batch-staging gs://bkt/stage --job-id "$2"; }

expect_exit 1 run_it b.csv errs
assert_contains err.txt 'b.csv:3: scene_id "B" v1: MODEL_ERROR'
assert_contains err.txt 'b.csv:4: scene_id "C" v1: BLOCKED'
grep -E 'b.csv:6: scene_id "E" v1: [A-Z_]+' err.txt || { cat err.txt >&2; fail "row E's per-request error"; }
assert_eq "$(count_lines out/errs/manifest.jsonl)" 2 "images of the rows that succeeded"
python3 - <<'PY' || fail "ledger lines of the failed requests"
import json, glob
lines = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
rid = [l for l in lines if l.get('kind') == 'reserve'][0]['id']
failed = {l['scene_id']: l for l in lines if not l.get('kind') and l['status'] != 'ok'}
assert set(failed) == {'B', 'C', 'E'}, failed
assert failed['B']['error_code'] == 'MODEL_ERROR' and failed['C']['error_code'] == 'BLOCKED', failed
assert failed['E']['error_code'] not in ('', 'MODEL_ERROR'), failed['E']
assert all(l['reservation'] == rid for l in failed.values())
settle = [l for l in lines if l.get('kind') == 'settle']
paid = sum(round(l['cost'] * 1e6) for l in lines if l.get('reservation') == rid and not l.get('kind'))
assert len(settle) == 1 and round(settle[0]['settled'] * 1e6) == paid and settle[0]['error_code'] == '', settle
print('per-request failures:', {k: v['error_code'] for k, v in failed.items()})
PY

# (2) A job that ends without results.
for state in FAILED EXPIRED CANCELLED; do
  vertex_knob "{\"schedule\":[\"PENDING\",\"RUNNING\",\"$state\"],\"errors\":{}}"
  one_variant_batch "$state.csv" 3 " $state"
  expect_exit 1 run_it "$state.csv" "job-$state"
  assert_eq "$(grep -cE "^assetgen: error: $state.csv:[2-4]: scene_id \"ROW-00[1-3]\" v1: BATCH_$state: " err.txt)" 3 "$state: rows failed with BATCH_$state"
  [ "$(find "out/job-$state" -name '*.png' 2>/dev/null | wc -l)" -eq 0 ] || fail "$state: images from a job that ended $state"
  python3 - "$state" <<'PY' || fail "the $state job's reservation was not given back"
import json, glob, sys
code = 'BATCH_' + sys.argv[1]
lines = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
s = [l for l in lines if l.get('kind') == 'settle' and l['error_code'] == code]
assert len(s) == 1 and s[0]['settled'] == 0, s
assert not [l for l in lines if not l.get('kind') and l['jobId'] == 'job-' + sys.argv[1]], 'charged'
PY
done
ag ledger sum ledger >sum.txt 2>&1
grep -q "reserved (pending)" sum.txt && { cat sum.txt >&2; fail "money still held after the jobs ended"; }
echo "ok: failed rows and FAILED, EXPIRED, CANCELLED jobs end with named codes; the money is given back"
