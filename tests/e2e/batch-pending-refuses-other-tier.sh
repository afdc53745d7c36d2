#!/usr/bin/env bash
# A job whose batch is still pending (`run --tier batch --no-wait`), then run at the standard
# tier: that run would make the batch's images again, and Google bills the batch when it ends
# whatever happened meanwhile, so every image would be paid twice. The standard run is refused
# (exit 78, CONFIG_ERROR) naming the pending batch and what to do, and sends nothing; after
# `--tier batch --cancel` gives the batch back, the standard run makes the images. Fails on a
# build that lets the standard run make the pending batch's images.
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
echo "ok: a standard run of a job with a pending batch is refused; after --cancel it runs"
