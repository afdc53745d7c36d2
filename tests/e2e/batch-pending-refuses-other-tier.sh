#!/usr/bin/env bash
# A job whose batch is still pending (`run --tier batch --no-wait`), then run at the standard
# tier: that run would make the batch's images again, and Google bills the batch when it ends
# whatever happened meanwhile, so every image would be paid twice. The standard run is refused
# (exit 78, CONFIG_ERROR) naming the pending batch and what to do, and sends nothing; after
# `--tier batch --cancel` gives the batch back, the standard run makes the images. The same for
# an unsharded batch run while a shard's batch is pending. Fails on a build that lets either run
# make the pending batch's images again.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"

start_batch_fake
one_variant_batch rows.csv 6
job=pending
opts=(--mode live --api-base "$base" --daily-budget-usd 100 --job-id "$job" --quiet)

batch_knob '{"schedule":["PENDING","RUNNING","SUCCEEDED"],"hold":true}'
expect_exit 75 ag run rows.csv "${opts[@]}" --tier batch --no-wait

expect_exit 78 ag run rows.csv "${opts[@]}"
assert_contains err.txt "assetgen-$job-c1"
assert_contains err.txt "still pending"
assert_contains err.txt "--tier batch --cancel"
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; n = json.load(open("stats.json"))["requests"]; assert n == 0, n' ||
  fail "the standard run sent requests while the job's batch was pending"
[ "$(find out -name '*.png' 2>/dev/null | wc -l)" -eq 0 ] || fail "images made twice"

# Cancelled, the batch holds nothing: the standard run makes the images.
expect_exit 0 ag run rows.csv "${opts[@]}" --tier batch --cancel
expect_exit 0 ag run rows.csv "${opts[@]}"
[ "$(find out -name '*.png' | wc -l)" -eq 6 ] || fail "the standard run after --cancel"

# A shard's pending batch: the unsharded batch run (which would send the shard's rows again) is
# refused; the other shard of the same count is not (its rows are its own).
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
one_variant_batch rows2.csv 8
opts2=(--mode live --api-base "$base" --daily-budget-usd 100 --job-id sharded --quiet --tier batch --no-wait)
expect_exit 75 ag run rows2.csv "${opts2[@]}" --shard 0/2
batch_counters before.json
expect_exit 78 ag run rows2.csv "${opts2[@]}"
assert_contains err.txt "assetgen-sharded-c1-s0of2"
assert_contains err.txt "of another shard or of the unsharded run"
batch_counters after.json
python3 -c 'import json; a, b = json.load(open("before.json")), json.load(open("after.json")); assert a["creates"] == b["creates"], (a, b)' ||
  fail "the unsharded batch run created a batch beside the shard's pending one"
expect_exit 75 ag run rows2.csv "${opts2[@]}" --shard 1/2
echo "ok: a run that would send a pending batch's requests again is refused; after --cancel it runs"
