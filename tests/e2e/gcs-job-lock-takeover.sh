#!/usr/bin/env bash
# A run of a gs:// job killed with SIGKILL leaves its lock in the bucket (gs://…/<job>/lock.json).
# While the lock is live, a run on another machine is refused naming the dead run; once the lock
# has expired unrenewed (--job-lock-ttl + a quarter of it), the next run takes the job over and
# says so on stderr, finishes it and removes the lock. Time is not waited for: the document is
# aged as the passing of time would (its expiry moved an hour back), which is what another
# machine sees after that hour.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs

one_variant_batch batch.csv 20
common=(--job-id j2 --out gs://bkt/out --ledger gs://bkt/ledger --daily-budget-usd 1000 --job-lock-ttl 10m)
export ASSETGEN_SPOOL_DIR="$T/spool-a"
"$ASSETGEN" run batch.csv "${common[@]}" --shard 0/2 --simulate latency=60s --concurrency 2 >/dev/null 2>a.err &
victim=$!
cleanup_pids+=("$victim")
for _ in $(seq 1 600); do
  gcs_get bkt out/j2/lock.json lock.json 2>/dev/null && break
  kill -0 $victim 2>/dev/null || fail "the victim ended before it held the lock: $(cat a.err)"
  sleep 0.02
done
[ -s lock.json ] || fail "no lock document in the bucket"
kill -KILL $victim
wait $victim 2>/dev/null || true

export ASSETGEN_SPOOL_DIR="$T/spool-b"
expect_exit 78 ag run batch.csv "${common[@]}" --simulate latency=1ms
assert_contains err.txt "job j2 is being run by another process right now (unsharded or a shard of it): pid $victim on "
assert_contains err.txt "(shard 0/2)"

# An hour later (the dead run's expiry moved back by that much).
python3 - <<'PY'
import json
d = json.load(open('lock.json'))
for h in d['holders'].values():
    h['expires_ms'] -= 3_600_000
json.dump(d, open('aged.json', 'w'))
PY
gcs_put bkt out/j2/lock.json aged.json
expect_exit 0 ag run batch.csv "${common[@]}" --simulate latency=1ms
assert_contains err.txt "job lock: took over job j2 from pid $victim on "
assert_contains err.txt "(shard 0/2)"
assert_contains err.txt "unrenewed (that run was killed or cut off)"
gcs_names bkt out/j2/ >names.txt
if grep -qx 'out/j2/lock.json' names.txt; then fail "the run that took over left the lock behind"; fi
day=$(date -u +%Y-%m-%d)
gcs_get bkt "ledger/$day.jsonl" day.jsonl
python3 - <<'PY' || fail "ledger after the takeover"
import json
lines = [json.loads(l) for l in open('day.jsonl') if l.strip()]
ok = [(l['scene_id'], l['variant']) for l in lines if l['status'] == 'ok' and l['jobId'] == 'j2']
assert len(ok) == len(set(ok)) == 20, f'{len(ok)} ok lines for {len(set(ok))} images (20 expected, each once)'
PY
echo "ok: a SIGKILL'd run's gs:// job lock refuses others until it expires, then is taken over"
