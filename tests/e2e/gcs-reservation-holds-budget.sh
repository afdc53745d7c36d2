#!/usr/bin/env bash
# A pending batch's reservation in a gs:// ledger (issue 17 item 3), written by another machine,
# holds the budget of every run that shares the ledger: with $0.90 of a $1.00 dry-run day
# reserved, 10 images (≈ $0.0672 each) are refused by the pre-flight check (exit 3, nothing
# made), and with --budget-policy partial the budget leases count the reservation as spent, so
# only one image fits. `ledger sum` on the bucket shows $0.90 "reserved (pending)" beside what
# was paid; once the batch settles to its actual cost ($0.30), the rest is free again.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs

day=$(date -u +%Y-%m-%d)
# The day object as another machine's batch left it: its reserve line (and, later, a result
# and the settle line), at the reservation's time.
python3 - <<'PY'
import json, time
ts = int(time.time() * 1000)
base = {"ts": ts, "userId": "e2e", "jobId": "job-batch", "prompt": "", "images": 0, "cost": 0, "v": 1,
        "scene_id": "", "variant": 0, "model": "gemini-3.1-flash-image", "mode": "dry_run",
        "error_code": "", "estimated": 0, "shard": "", "tier": "batch"}
reserve = dict(base, id="job-batch/batch/0", status="reserved", kind="reserve", reserved=0.9,
               requests=12, batch="assetgen-job-batch-0")
paid = dict(base, id="job-batch/B-1/v1", prompt="p", images=1, cost=0.3, scene_id="B-1", variant=1,
            status="ok", estimated=0.3, reservation="job-batch/batch/0", recorded_ts=ts + 1000)
settle = dict(base, id="job-batch/batch/0/settle", status="settled", kind="settle",
              reservation="job-batch/batch/0", settled=0.3, batch="assetgen-job-batch-0",
              recorded_ts=ts + 2000)
line = lambda o: json.dumps(o, separators=(',', ':')) + '\n'
open('open.jsonl', 'w').write(line(reserve))
open('settled.jsonl', 'w').write(line(reserve) + line(paid) + line(settle))
PY
gcs_put bkt "ledger/$day.jsonl" open.jsonl

one_variant_batch ten.csv 10
common=(--daily-budget-usd 1 --ledger gs://bkt/ledger)
expect_exit 3 ag run ten.csv --out out-refused "${common[@]}" --json
assert_contains err.txt '($0.900000 of it held by pending batch jobs)'
assert_contains err.txt '$0.900000 of the day is held by a pending batch: "assetgen-job-batch-0" (job job-batch, $0.900000). Wait for it to settle'
python3 -c 'import json; p = json.load(open("out.txt"))["preflight"]; assert p["reservedPendingUsd"] == 0.9 and p["spentTodayUsd"] == 0.9, p' ||
  fail "preflight: reservedPendingUsd"
[ ! -d out-refused ] || [ "$(find out-refused -name '*.png' | wc -l)" -eq 0 ] || fail "refused run made images"

expect_exit 3 ag run ten.csv --out out-partial "${common[@]}" --budget-policy partial --concurrency 4
assert_eq "$(find out-partial -name '*.png' | wc -l | tr -d ' ')" 1 "images beside a \$0.90 reservation"

expect_exit 0 ag ledger sum gs://bkt/ledger --json
python3 - <<'PY' || fail "ledger sum --json (open)"
import json
s = json.load(open('out.txt'))
assert s['total']['reservedPendingUsd'] == 0.9, s
assert s['total']['images'] == 1 and 0.06 < s['total']['costUsd'] < 0.075, s
PY

# The batch's result and settle line arrive (the day object rewritten as the other machine's
# appends would leave it, this run's line kept): $0.30 paid, nothing held, room for more.
gcs_get bkt "ledger/$day.jsonl" now.jsonl
grep -v '"kind":"reserve"' now.jsonl >>settled.jsonl
gcs_put bkt "ledger/$day.jsonl" settled.jsonl
expect_exit 0 ag ledger sum gs://bkt/ledger --json
python3 - <<'PY' || fail "ledger sum --json (settled)"
import json
s = json.load(open('out.txt'))
assert s['total']['reservedPendingUsd'] == 0, s
assert s['total']['images'] == 2 and 0.36 < s['total']['costUsd'] < 0.375, s
PY
one_variant_batch five.csv 5 " again"
expect_exit 0 ag run five.csv --out out-after "${common[@]}" --budget-policy partial
assert_eq "$(find out-after -name '*.png' | wc -l | tr -d ' ')" 5 "images once the batch settled"
echo "ok: a pending batch in a gs:// ledger holds its room for every run, leases included, until it settles"
