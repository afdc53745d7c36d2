#!/usr/bin/env bash
# `run --tier batch --no-wait` (issue 17 item 2), as cron runs it: the first call uploads the
# requests, creates the batch and exits 75 (EX_TEMPFAIL) with one status line while the fake
# says PENDING; the same command exits 75 again while PENDING and while RUNNING, and 0 once the
# fake says SUCCEEDED, having written 10 valid PNGs, one manifest line and one paid ledger line
# each; a call after that exits 0 and changes nothing. In all, the fake saw one upload and one
# create: the later calls upload and create nothing.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"

start_batch_fake
one_variant_batch rows.csv 10
job=nowait
display="assetgen-$job-c1"
cmd=(ag run rows.csv --mode live --api-base "$base" --tier batch --no-wait --daily-budget-usd 100
  --job-id "$job" --quiet)
# status_line STATE K: the one line of a call that found the batch not done yet.
status_line() {
  cat out.txt err.txt >status.txt
  assert_contains status.txt "batch: $display $1 $2/10 done; run the same command again to collect"
  assert_eq "$(grep -c '^batch: ' status.txt)" 1 "status lines"
}

batch_knob '{"schedule":["PENDING","RUNNING","SUCCEEDED"],"hold":true}'
expect_exit 75 "${cmd[@]}"
status_line PENDING 0
expect_exit 75 "${cmd[@]}"
status_line PENDING 0
[ "$(find out -name '*.png' 2>/dev/null | wc -l)" -eq 0 ] || fail "images before the batch succeeded"

batch_knob '{"hold":false}'  # the next batches.get says RUNNING (5 of 10 done), the one after SUCCEEDED
expect_exit 75 "${cmd[@]}"
status_line RUNNING 5
expect_exit 0 "${cmd[@]}"
total=$(check_batch_job out ledger 10)
batch_counters counters.json
check_one_batch_per_chunk counters.json "$job" 1

expect_exit 0 "${cmd[@]}"
batch_counters again.json
assert_eq "$(check_batch_job out ledger 10)" "$total" "ledger total after one more call"
python3 - <<'PY' || fail "the later calls uploaded or created"
import json
c, d = json.load(open('counters.json')), json.load(open('again.json'))
assert (c['uploads'], c['creates']) == (1, 1), c
assert (d['uploads'], d['creates']) == (1, 1), d
PY
echo "ok: --no-wait exited 75 twice PENDING, once RUNNING, 0 once SUCCEEDED; one upload, one create in all"
