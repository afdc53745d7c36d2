#!/usr/bin/env bash
# A run killed with SIGKILL on machine A holds a budget lease on a gs:// ledger and has paid for
# images whose ledger lines are not in the bucket yet (spooled on A: every push of a ledger part
# answers 503 while it runs; a kill between the manifest line and the ledger line is the same
# case, with the line written back from A's manifest). Its lease must not be dropped when its
# ttl runs out: machine B (another spool folder, another job) waits for the lease and then finds
# no room (exit 3), instead of spending what A's unrecorded images used. The killed job's next
# run on A pushes A's spool, writes back what its manifest lacks in the ledger, releases the dead
# lease and makes the rest: $1.00 is never exceeded, 14 images in all (≈ $0.0672 each), each id
# once.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs
gcs=$(fake_url gcs)
day=$(date -u +%Y-%m-%d)
export ASSETGEN_USER=gap-test
doc="ledger/budget/$day/gap-test.json"

one_variant_batch a.csv 20
one_variant_batch b.csv 20 " (job b)"
common=(--daily-budget-usd 1 --budget-policy partial --ledger gs://bkt/ledger --budget-lease-ttl 2s
        --budget-lease-images 16)
spool_a="$T/spool-a"
spool_b="$T/spool-b"

# Machine A: its ledger pushes fail, so the lines of its images stay in its spool.
fake_post "$gcs/_fake/faults" '{"rules":[{"fault":"503","rate":1.0,"ops":["upload"],"object_prefix":"ledger/.parts/"}]}'
ASSETGEN_SPOOL_DIR=$spool_a "$ASSETGEN" run a.csv --job-id a --out gs://bkt/out "${common[@]}" \
  --concurrency 2 --simulate latency=300ms >/dev/null 2>victim.txt &
victim=$!
for _ in $(seq 1 400); do
  n=$(cat "$spool_a"/jobs/*/manifest.jsonl 2>/dev/null | wc -l || true)
  [ "${n:-0}" -ge 3 ] && break
  kill -0 $victim 2>/dev/null || break
  sleep 0.05
done
kill -KILL $victim 2>/dev/null || fail "the victim ended before it was killed: $(cat victim.txt)"
wait $victim 2>/dev/null || true
made_a=$(cat "$spool_a"/jobs/*/manifest.jsonl | wc -l)
[ "$made_a" -ge 3 ] && [ "$made_a" -lt 14 ] || fail "the kill landed at $made_a images"
fake_post "$gcs/_fake/faults" '{"rules":[]}'
gcs_get bkt "$doc" doc.json
python3 -c 'import json; (l,) = json.load(open("doc.json"))["modes"]["dry_run"]["leases"].values(); assert l["amount_micros"] >= 900000, l' ||
  fail "the victim held no lease of the whole budget when it was killed"

# Machine B, another job: it waits while A's lease is live, and after its ttl finds that the
# dead lease still holds the room of A's unrecorded images.
expect_exit 3 env ASSETGEN_SPOOL_DIR="$spool_b" "$ASSETGEN" run b.csv --job-id b --out gs://bkt/out "${common[@]}" \
  --concurrency 4 --simulate latency=20ms
assert_contains err.txt "expired unrenewed"
gcs_get bkt "$doc" doc.json
python3 -c 'import json; ls = json.load(open("doc.json"))["modes"]["dry_run"]["leases"]; assert len(ls) == 1, ls' ||
  fail "the dead lease was dropped: $(cat doc.json)"

# The killed job's next run on A: its spool is pushed, its dead lease released, the rest made.
expect_exit 3 env ASSETGEN_SPOOL_DIR="$spool_a" "$ASSETGEN" run a.csv --job-id a --out gs://bkt/out "${common[@]}" \
  --concurrency 2 --simulate latency=20ms
assert_contains err.txt "released the lease"
# B again: nothing is left.
expect_exit 3 env ASSETGEN_SPOOL_DIR="$spool_b" "$ASSETGEN" run b.csv --job-id b --out gs://bkt/out "${common[@]}" \
  --concurrency 4 --simulate latency=20ms

gcs_get bkt "ledger/$day.jsonl" day.jsonl
gcs_get bkt "$doc" doc.json
python3 - "$made_a" <<'PY' || fail "budget after the SIGKILL"
import json, sys
from decimal import Decimal
lines = [json.loads(l, parse_float=Decimal) for l in open('day.jsonl') if l.strip()]
ids = [l['id'] for l in lines]
assert len(set(ids)) == len(ids), 'a ledger line twice'
paid = [l for l in lines if l['images'] > 0]
total = sum(l['cost'] for l in lines)
images = sum(l['images'] for l in paid)
assert total <= Decimal('1.00'), f'${total} spent against $1.00 ({images} images)'
assert images == 14, f'{images} images (14 fit in $1.00)'
a = [l for l in paid if l['id'].startswith('a/')]
assert len(a) >= int(sys.argv[1]), 'lines of the killed run are missing'
assert json.load(open('doc.json'))['modes']['dry_run']['leases'] == {}, 'a lease was left behind'
print(f'{images} images, ${total}; {len(a)} by job a')
PY
echo "ok: a killed run's lease outlives its ttl until its job runs again on that machine; \$1.00 not exceeded"
