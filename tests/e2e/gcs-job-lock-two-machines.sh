#!/usr/bin/env bash
# One writer of a gs:// job across machines: two runs of one gs:// job from two spool folders
# (two machines: their local locks never meet) at once. The second is refused (exit 78) naming
# the first (its pid, host and when its lock in the bucket expires), unsharded, as a shard or
# as --merge; the first finishes and removes gs://…/<job>/lock.json; the second then pays for nothing.
# No image is charged twice.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs

one_variant_batch batch.csv 60
common=(--job-id j1 --out gs://bkt/out --ledger gs://bkt/ledger --daily-budget-usd 1000)
export ASSETGEN_SPOOL_DIR="$T/spool-a"
"$ASSETGEN" run batch.csv "${common[@]}" --simulate latency=100ms,seed=1 --concurrency 2 >/dev/null 2>a.err &
pid=$!
cleanup_pids+=("$pid")
# Wait (on the bucket, not on time) until machine A holds the job.
for _ in $(seq 1 600); do
  gcs_get bkt out/j1/lock.json lock.json 2>/dev/null && break
  kill -0 $pid 2>/dev/null || fail "machine A ended before it held the lock: $(cat a.err)"
  sleep 0.02
done
[ -s lock.json ] || fail "no lock document in the bucket"
python3 - "$pid" <<'PY' || fail "lock document: $(cat lock.json)"
import json, sys
(h,) = json.load(open('lock.json'))['holders'].values()
assert h['pid'] == int(sys.argv[1]) and h['shard'] == '' and h['expires_ms'] > h['started_ms'], h
PY

export ASSETGEN_SPOOL_DIR="$T/spool-b"
expect_exit 78 ag run batch.csv "${common[@]}" --simulate latency=1ms
assert_contains err.txt "job j1 is being run by another process right now (unsharded or a shard of it): pid $pid on "
assert_contains err.txt "its lock gs://bkt/out/j1/lock.json expires at "
assert_contains err.txt "wait for it to finish (or stop it), or give this run another --job-id"
expect_exit 78 ag run batch.csv "${common[@]}" --shard 1/2 --simulate latency=1ms
assert_contains err.txt "job j1 is being run unsharded by another process right now, so shard 1/2 cannot run beside it: pid $pid"
expect_exit 78 ag run batch.csv "${common[@]}" --merge --shards 2
assert_contains err.txt "job j1 is being run by another process right now (unsharded or a shard of it): pid $pid"
kill -0 $pid 2>/dev/null || fail "machine A ended before B was refused: the test proved nothing"
wait $pid || fail "machine A failed: $(cat a.err)"
gcs_names bkt out/j1/ >names.txt
if grep -qx 'out/j1/lock.json' names.txt; then fail "machine A left its lock behind"; fi

# Machine B afterwards: everything is done, nothing is paid again.
expect_exit 0 ag run batch.csv "${common[@]}" --simulate latency=1ms
assert_contains err.txt "60 images (60 already done)"
day=$(date -u +%Y-%m-%d)
gcs_get bkt "ledger/$day.jsonl" day.jsonl
python3 - <<'PY' || fail "ledger after two machines"
import json
lines = [json.loads(l) for l in open('day.jsonl') if l.strip()]
ok = [(l['scene_id'], l['variant']) for l in lines if l['status'] == 'ok' and l['jobId'] == 'j1']
assert len(ok) == len(set(ok)) == 60, f'{len(ok)} ok lines for {len(set(ok))} images (60 expected, each once)'
PY
echo "ok: a second machine is refused while the first holds the gs:// job; 60 images, each charged once"
