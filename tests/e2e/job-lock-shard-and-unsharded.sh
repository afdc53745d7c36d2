#!/usr/bin/env bash
# One writer of a job at a time, whatever its shard settings: while an unsharded run of a job
# runs, a shard of it is refused (exit 78, naming why), and the reverse; shards of one count run
# side by side, a shard of another count is refused. No image is charged twice.
source "$(dirname "$0")/common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX

one_variant_batch batch.csv 160
# Slow enough that a background run outlives the refused commands beside it, even under ASan on
# a loaded machine (40 ms gave shard 0/2 about 1.6 s, which a fresh clone under load overran).
slow=(--simulate latency=150ms,seed=1 --concurrency 2 --daily-budget-usd 1000)
# wait_lines FILE N PID: until FILE has N lines (fails if PID ended first).
wait_lines() {
  for _ in $(seq 1 600); do
    [ "$(count_lines "$1")" -ge "$2" ] && return 0
    kill -0 "$3" 2>/dev/null || fail "the background run ended before $1 had $2 lines"
    sleep 0.02
  done
  fail "$1 never had $2 lines"
}
check_ledger() { python3 - "$@" <<'PY'
import json, glob, sys
job, images = sys.argv[1], int(sys.argv[2])
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
ok = [l for l in led if l['status'] == 'ok' and l['jobId'] == job]
keys = [(l['scene_id'], l['variant']) for l in ok]
assert len(keys) == len(set(keys)), 'an image charged twice: %d lines, %d images' % (len(keys), len(set(keys)))
assert len(keys) == images, (len(keys), images)
PY
}

# 1. The unsharded run holds the job: both shards of 2 are refused while it runs.
"$ASSETGEN" run batch.csv --job-id j1 "${slow[@]}" >/dev/null 2>bg1.err &
pid=$!
cleanup_pids+=("$pid")
wait_lines out/j1/manifest.jsonl 3 $pid
expect_exit 78 ag run batch.csv --job-id j1 --shard 0/2 "${slow[@]}"
assert_contains err.txt "job j1 is being run unsharded by another process right now, so shard 0/2 cannot run beside it"
expect_exit 78 ag run batch.csv --job-id j1 --shard 1/2 "${slow[@]}"
expect_exit 78 ag run batch.csv --job-id j1 "${slow[@]}"
assert_contains err.txt "job j1 is being run by another process right now"
wait $pid || fail "the unsharded run failed: $(cat bg1.err)"
check_ledger j1 160 || fail "unsharded run with refused shards beside it"

# 2. A shard holds the job: the unsharded run and a shard of another count are refused; the
#    other shard of the same count runs beside it, and the unsharded run afterwards pays nothing.
"$ASSETGEN" run batch.csv --job-id j2 --shard 0/2 "${slow[@]}" >/dev/null 2>bg2.err &
pid=$!
cleanup_pids+=("$pid")
wait_lines out/j2/shards/0-of-2/manifest.jsonl 3 $pid
expect_exit 78 ag run batch.csv --job-id j2 "${slow[@]}"
assert_contains err.txt "job j2 is being run by another process right now (unsharded or a shard of it)"
expect_exit 78 ag run batch.csv --job-id j2 --shard 0/3 "${slow[@]}"
assert_contains err.txt "job j2 is being run by shards of another count (2) right now, so shard 0/3 cannot run beside them"
expect_exit 78 ag run batch.csv --job-id j2 --shard 0/2 "${slow[@]}"
assert_contains err.txt "shard 0/2 of job j2 is being run by another process right now"
expect_exit 0 ag run batch.csv --job-id j2 --shard 1/2 --simulate latency=1ms --concurrency 4 --daily-budget-usd 1000
kill -0 $pid 2>/dev/null || fail "shard 0/2 ended before shard 1/2 was done: the test proved nothing"
wait $pid || fail "shard 0/2 failed: $(cat bg2.err)"
expect_exit 0 ag run batch.csv --job-id j2 --daily-budget-usd 1000
assert_contains err.txt "160 images (160 already done)"
check_ledger j2 160 || fail "shards beside refused runs"
echo "ok: unsharded and shard runs of one job exclude each other; nothing charged twice"
