#!/usr/bin/env bash
# `run --tier batch --no-wait`: the first call uploads the request file, creates the batch and
# exits 75 with one line on stderr (`batch: assetgen-<job>-c1 PENDING 0/5 done; run the same
# command again to collect`); the same command exits 75 again while the fake says RUNNING, then
# collects and exits 0 once it says SUCCEEDED (the fake moves one state per batches.get). The
# later calls upload and create nothing (the fake's log: one upload start, one create), and while
# the batch is pending its reservation is in the ledger (a reserve line, no settle line yet).
# Then --cancel on a second job's pending batch gives its money back (`ledger sum`).
source "$(dirname "$0")/common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20

start_fake gemini gemini_fake.py --api-key e2e-key --batch-schedule PENDING,RUNNING,SUCCEEDED
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
one_variant_batch batch.csv 5
run_it() { ag run batch.csv --mode live --api-base "$base" --tier batch --no-wait "$@"; }

expect_exit 75 run_it
grep -E '^batch: assetgen-job-[0-9a-f]+-c1 PENDING 0/5 done; run the same command again to collect$' err.txt \
  || { cat err.txt >&2; fail "the first call's status line"; }
assert_eq "$(grep -c '"kind":"reserve"' ledger/*.jsonl)" 1 "reserve lines while pending"
assert_eq "$(grep -c '"kind":"settle"' ledger/*.jsonl || true)" 0 "settle lines while pending"
expect_exit 75 run_it
grep -qE '^batch: assetgen-job-[0-9a-f]+-c1 RUNNING [0-9]+/5 done; run the same command again to collect$' err.txt \
  || { cat err.txt >&2; fail "the second call's status line"; }
expect_exit 0 run_it
job=$(ls out)
assert_eq "$(check_pngs "out/$job")" 5 "valid PNGs once collected"
assert_eq "$(count_lines "out/$job/manifest.jsonl")" 5 "manifest lines"
assert_eq "$(grep -c '"kind":"settle"' ledger/*.jsonl)" 1 "settle lines once collected"
expect_exit 0 run_it   # nothing left: no new batch
fake_get "$base/_fake/batch-log" log.json
python3 - <<'PY' || fail "the later calls uploaded or created something"
import json
log = json.load(open('log.json'))
ops = [e['op'] for e in log]
uploads = [e for e in log if e['op'] == 'upload' and 'offset' not in e]   # upload starts
creates = ops.count('create')
assert creates == 1 and len(uploads) == 1, (creates, uploads)
print('fake log: %d upload start, %d create over four calls' % (len(uploads), creates))
PY
fake_get "$base/_fake/batches" batches.json
assert_eq "$(python3 -c 'import json; print(len(json.load(open("batches.json"))))')" 1 "batches at the fake"

# --cancel: a second job (another input) pending, cancelled, its reservation given back.
one_variant_batch other.csv 3 " other"
expect_exit 75 ag run other.csv --mode live --api-base "$base" --tier batch --no-wait
ag ledger sum ledger >sum-pending.txt 2>&1
expect_exit 0 ag run other.csv --mode live --api-base "$base" --tier batch --cancel
assert_contains err.txt "batch(es) cancelled"
fake_get "$base/_fake/batches" batches.json
python3 - <<'PY' || fail "the second batch is not cancelled at the fake"
import json
b = [x for x in json.load(open('batches.json')) if x['requests'] == 3]
assert len(b) == 1 and b[0]['state'].endswith('CANCELLED'), b
PY
python3 - <<'PY' || fail "the cancelled reservation was not settled with BATCH_CANCELLED and 0 paid"
import json, glob
lines = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
s = [l for l in lines if l.get('kind') == 'settle' and l['error_code'] == 'BATCH_CANCELLED']
assert len(s) == 1 and s[0]['settled'] == 0, s
PY
ag ledger sum ledger >sum-after.txt 2>&1
assert_contains sum-pending.txt "reserved (pending)"
grep -q "reserved (pending)" sum-after.txt && fail "ledger sum still shows money held after --cancel"
echo "--- ledger sum while the second batch was pending:"; cat sum-pending.txt
echo "--- after --cancel:"; cat sum-after.txt
echo "ok: --no-wait exits 75 until SUCCEEDED, then collects; later calls create nothing; --cancel gives the money back"
