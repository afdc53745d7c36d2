#!/usr/bin/env bash
# A pending batch's reservation in the ledger (issue 17 item 3) counts against the day's budget
# of every other run: with $9.80 reserved of a $10 day, a live run of 5 images (≈ $0.34) against
# the Gemini fake refuses (exit 3) and sends nothing; `ledger sum` shows $0 paid and $9.80
# "reserved (pending)"; `ledger show --reservations` lists it (what it holds, its age); `ledger
# verify` lists the open reservation with its age and passes. The refusal names the batch.
# Once the batch settles (cancelled: given back whole), the same run makes its 5 images. A
# reservation left open for 50 hours is a stale_reservation finding (exit 1). The lines are
# written here as the batch tier writes them (README, "Ledger").
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 10
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
# Lines back-dated 30 minutes must stay on today's UTC day (CI once ran this at 00:10 UTC).
at_midday
one_variant_batch b.csv 5

# reserve_line FOLDER ID AMOUNT AGE_HOURS [settle REASON]: appends a reserve (or settle) line of
# user e2e, mode live, reserved AGE_HOURS ago, to the day file of that time.
reserve_line() { python3 - "$@" <<'PY'
import json, os, sys, time
folder, rid, amount, age = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
settle = len(sys.argv) > 5 and sys.argv[5] == 'settle'
ts = int(time.time() * 1000 - age * 3600_000)
line = {"ts": ts, "userId": "e2e", "jobId": "job-batch", "prompt": "", "images": 0, "cost": 0,
        "v": 1, "id": rid + ("/settle" if settle else ""), "scene_id": "", "variant": 0,
        "model": "gemini-3.1-flash-image", "mode": "live",
        "status": "settled" if settle else "reserved",
        "error_code": sys.argv[6] if settle else "", "estimated": 0, "shard": "", "tier": "batch"}
if settle:
    line.update({"kind": "settle", "reservation": rid, "settled": 0, "batch": "assetgen-job-batch-0",
                 "recorded_ts": int(time.time() * 1000)})
else:
    line.update({"kind": "reserve", "reserved": float(amount), "requests": 140,
                 "batch": "assetgen-job-batch-0"})
os.makedirs(folder, exist_ok=True)
day = time.strftime('%Y-%m-%d', time.gmtime(ts / 1000))
with open(os.path.join(folder, day + '.jsonl'), 'a') as f:
    f.write(json.dumps(line, separators=(',', ':')) + '\n')
PY
}

reserve_line ledger job-batch/batch/0 9.80 0.5

expect_exit 3 ag run b.csv --mode live --api-base "$base" --daily-budget-usd 10
assert_contains err.txt "(\$9.800000 of it held by pending batch jobs)"
assert_contains err.txt 'missing. Nothing was run. $9.800000 of the day is held by a pending batch: "assetgen-job-batch-0" (job job-batch, $9.800000). Wait for it to settle, or cancel it with `assetgen run … --tier batch --cancel`'
# Held past the whole limit: the day is spent, but not for good (no "wait for the next day").
expect_exit 3 ag run b.csv --mode live --api-base "$base" --daily-budget-usd 9
assert_contains err.txt 'over it by $0.800000. Nothing was run. $9.800000 of the day is held by a pending batch: "assetgen-job-batch-0" (job job-batch, $9.800000). Wait for it to settle, or cancel it with'
grep -q 'next day' err.txt && fail "a pending batch's day told to wait for the next day"
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; s = json.load(open("stats.json")); assert s["requests"] == 0, s' ||
  fail "a request was sent while the batch held the budget"

expect_exit 0 ag ledger sum --json
python3 - <<'PY' || fail "ledger sum --json"
import json
s = json.load(open('out.txt'))
assert s['total']['costUsd'] == 0, s
assert s['total']['reservedPendingUsd'] == 9.8, s
assert s['total']['images'] == 0, s
PY
expect_exit 0 ag ledger sum --by job
assert_contains out.txt 'reserved (pending)'
grep -E '^job-batch +1 +0 +\$0\.000000 +\$0\.000000 +\$9\.800000$' out.txt >/dev/null ||
  { cat out.txt >&2; fail "ledger sum --by job: the batch's row"; }

expect_exit 0 ag ledger show
assert_contains out.txt 'batch assetgen-job-batch-0'
assert_contains out.txt 'held $9.800000'

# Finance's view: one row per reservation, what it holds and since when.
expect_exit 0 ag ledger show --reservations
assert_contains out.txt "$(printf 'job-batch/batch/0\tassetgen-job-batch-0\tjob-batch\te2e\t$9.800000\t$0.000000\topen, holds $9.800000\t30m')"
assert_eq "$(wc -l <out.txt | tr -d ' ')" 2 "ledger show --reservations: a header and one row"

expect_exit 0 ag ledger verify
assert_contains err.txt 'open reservation "job-batch/batch/0" of job job-batch (batch "assetgen-job-batch-0") holds $9.800000, reserved 30m'
assert_contains err.txt 'ledger verify: ok'

# Cancelled: the reservation is given back, and the run fits.
reserve_line ledger job-batch/batch/0 0 0.5 settle BATCH_CANCELLED
expect_exit 0 ag ledger sum --json
python3 -c 'import json; s = json.load(open("out.txt")); assert s["total"]["reservedPendingUsd"] == 0, s' ||
  fail "settled: still reserved"
expect_exit 0 ag ledger show --status settled
assert_contains out.txt 'settled BATCH_CANCELLED'
assert_contains out.txt 'actual $0.000000'
expect_exit 0 ag ledger show --reservations --json
python3 - <<'PY' || fail "ledger show --reservations --json (settled)"
import json
[r] = [json.loads(l) for l in open('out.txt')]
assert r['id'] == 'job-batch/batch/0' and r['state'] == 'settled' and r['reason'] == 'BATCH_CANCELLED', r
assert r['reservedUsd'] == 9.8 and r['paidUsd'] == 0 and r['heldUsd'] == 0 and r['settledUsd'] == 0, r
assert r['batch'] == 'assetgen-job-batch-0' and r['jobId'] == 'job-batch' and r['requests'] == 140, r
PY
expect_exit 0 ag run b.csv --mode live --api-base "$base" --daily-budget-usd 10
assert_eq "$(find out -name '*.png' | wc -l | tr -d ' ')" 5 "images once the batch settled"

# Open for 50 hours: Google would have expired the batch at 48 h.
reserve_line stale job-old/batch/3 1.25 50
mkdir -p no-out
expect_exit 1 ag ledger verify stale --out no-out
assert_contains out.txt 'stale_reservation: reservation "job-old/batch/3"'
assert_contains out.txt '$1.250000 held) is open after 2d2h'
assert_contains err.txt 'ledger verify: 1 problem (1 stale_reservation)'
expect_exit 1 ag ledger verify stale --out no-out --json
python3 - <<'PY' || fail "ledger verify --json"
import json
v = json.load(open('out.txt'))
assert not v['ok'] and [f['kind'] for f in v['findings']] == ['stale_reservation'], v
[r] = v['openReservations']
assert r['id'] == 'job-old/batch/3' and r['heldUsd'] == 1.25 and 50 * 3600 - 60 <= r['ageSeconds'] <= 50 * 3600 + 60, r
PY

# A settle line without its reserve line is an error.
reserve_line stray job-x/batch/0 0 1 settle ""
expect_exit 1 ag ledger verify stray --out no-out
assert_contains out.txt 'settle_without_reserve: settle line of reservation "job-x/batch/0" has no reserve line'
echo "ok: a pending batch's reservation holds the budget until it settles; sum, show and verify tell it"
