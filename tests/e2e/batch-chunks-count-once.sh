#!/usr/bin/env bash
# A batch job's chunks count against the day once each (issue 17): a chunk's worst case is held in
# the run's budget only until its reserve line is written; from then on the line holds it, for
# this run and every other. 6 rows with --batch-size 2 are 3 chunks; the daily limit is exactly
# their worst case at the batch price (read from an earlier job's reserve lines).
#   1. The job runs to the end: 3 batches, 6 images, exit 0, each image charged what the fake
#      billed (the same as in the earlier job, to the micro-dollar).
#   2. While such a job waits (the fake holds its 3 batches PENDING), another process with room
#      for one more image beside the 3 chunks runs it (exit 0): it sees the chunks' money once.
#   3. Killed right after its 3rd create was sent, then the same command: one batch per chunk, 6
#      images, every charge once, exit 0, within the same exact limit.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
start_batch_fake
one_variant_batch rows.csv 6
one_variant_batch one.csv 1 " standard"
images=6 chunks=3

job_cmd() {  # job_cmd JOB BUDGET: the batch job's command in $cmd (an array: kill_at kills its pid)
  cmd=("$ASSETGEN" run rows.csv --mode live --api-base "$base" --tier batch --batch-size 2
    --poll-every 0s --daily-budget-usd "$2" --job-id "$1" --out "out-$1" --ledger "ledger-$1" --quiet)
}

# The chunks' worst case, from the reserve lines of a job with room to spare.
job_cmd probe 100
expect_exit 0 "${cmd[@]}"
ref_total=$(check_batch_job out-probe ledger-probe "$images")
exact=$(python3 - <<'PY'
import glob, json
from decimal import Decimal
r = [json.loads(l, parse_float=Decimal) for p in glob.glob('ledger-probe/*.jsonl') for l in open(p)
     if l.strip() and json.loads(l).get('kind') == 'reserve']
assert len(r) == 3, r
print(sum(Decimal(str(x['reserved'])) for x in r))
PY
)
echo "the 3 chunks' worst case at the batch price: \$$exact" >&2

# 1. Exactly the limit: every chunk is sent.
job_cmd exact "$exact"
expect_exit 0 "${cmd[@]}"
batch_counters counters.json
check_one_batch_per_chunk counters.json exact "$chunks"
total=$(check_batch_job out-exact ledger-exact "$images" ledger-probe)
assert_eq "$total" "$ref_total" "ledger total of the exact-limit job (micro-dollars)"

# 2. Another process while the chunks wait: room for one standard image beside them.
budget=$(python3 -c "from decimal import Decimal; print(Decimal('$exact') + Decimal('0.10'))")
batch_knob '{"hold":true}'
job_cmd shared "$budget"
"${cmd[@]}" >bg.out 2>bg.err &
pid=$!
cleanup_pids+=("$pid")
for _ in $(seq 1 1200); do  # bounded: 60 s
  batch_counters c.json
  python3 -c 'import json, sys; c = json.load(open("c.json"))["by_display_name"]
sys.exit(0 if sum(v for k, v in c.items() if k.startswith("assetgen-shared-")) == 3 else 1)' && break
  kill -0 "$pid" 2>/dev/null || { cat bg.err >&2; fail "the shared job ended before its 3 batches were made"; }
  sleep 0.05
done
batch_counters c.json
check_one_batch_per_chunk c.json shared "$chunks"
expect_exit 0 ag run one.csv --mode live --api-base "$base" --daily-budget-usd "$budget" \
  --out out-one --ledger ledger-shared
assert_eq "$(check_pngs out-one)" 1 "the other process's image beside the pending chunks"
batch_knob '{"hold":false}'
set +e; wait "$pid"; got=$?; set -e
[ "$got" -eq 0 ] || { cat bg.err >&2; fail "the shared job exited $got"; }

# 3. SIGKILL right after the 3rd create was sent; the same command finishes within the limit.
job_cmd killed "$exact"
kill_at create 3 "${cmd[@]}"
expect_exit 0 "${cmd[@]}"
batch_counters counters.json
check_one_batch_per_chunk counters.json killed "$chunks"
total=$(check_batch_job out-killed ledger-killed "$images" ledger-probe)
assert_eq "$total" "$ref_total" "ledger total of the killed and resumed job (micro-dollars)"
expect_exit 0 ag ledger verify ledger-killed --out out-killed
echo "ok: 3 chunks that fit the day exactly were all sent (also after a kill); another process saw them once"
