#!/usr/bin/env bash
# A shard killed with SIGKILL while it holds a budget lease strands nothing once its task is
# retried: shard 0/4 takes a lease (16 requests' worst case, at least $0.60) on a $1.00 dry-run
# budget and is killed with its requests in flight; the 4 shards then run (shard 0 as Cloud Run's
# retried task, attempt 1, on the same machine). The dead lease is kept past its expiry
# (--budget-lease-ttl 4s) since its holder may have paid for images not yet in the ledger
# (gcs-kill-unpushed-lines-keep-lease.sh); the retried task releases it once it has pushed the
# dead spool and written back what the manifest lacked, and the rest is spent too: 14 images in
# all (≈ $0.0672 each, gemini-3.1-flash-image at 1K), never more than $1.00. Meanwhile the
# pre-flight check of another run counts the dead lease as held.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs

ag seed >batch.csv 2>/dev/null
day=$(date -u +%Y-%m-%d)
export ASSETGEN_USER=expiry-test
doc="ledger/budget/$day/expiry-test.json"
common=(--concurrency 16 --daily-budget-usd 1 --budget-policy partial --out out --ledger gs://bkt/ledger
        --budget-lease-ttl 4s)

"$ASSETGEN" run batch.csv --shard 0/4 "${common[@]}" --simulate latency=30s >/dev/null 2>victim.txt &
victim=$!
# Wait (on the document, not on time) until the victim holds its lease.
for _ in $(seq 1 400); do
  if gcs_get bkt "$doc" doc.json 2>/dev/null &&
     python3 -c 'import json,sys; sys.exit(0 if json.load(open("doc.json"))["modes"]["dry_run"]["leases"] else 1)' 2>/dev/null; then
    break
  fi
  sleep 0.05
done
kill -KILL $victim
wait $victim 2>/dev/null || true
gcs_get bkt "$doc" doc.json
expires=$(python3 -c 'import json; (l,) = json.load(open("doc.json"))["modes"]["dry_run"]["leases"].values(); assert l["amount_micros"] >= 600000, l; print(l["expires_ms"])') ||
  fail "the victim held no lease of 16 requests when it was killed"

# The pre-flight check counts the dead lease as held: 10 images (≈ $0.67) do not fit in what
# lies beside it, so --budget-policy refuse runs nothing (exit 3) and says why.
one_variant_batch ten.csv 10
expect_exit 3 ag run ten.csv --daily-budget-usd 1 --out out-ten --ledger gs://bkt/ledger --json
assert_contains err.txt "held by other processes' leases"
python3 -c 'import json; p = json.load(open("out.txt"))["preflight"]; assert p["heldByLeasesUsd"] >= 0.6, p' ||
  fail "preflight: heldByLeasesUsd"

pids=()
for i in 0 1 2 3; do
  if [ "$i" = 0 ]; then
    CLOUD_RUN_TASK_INDEX=0 CLOUD_RUN_TASK_COUNT=4 CLOUD_RUN_TASK_ATTEMPT=1 \
      "$ASSETGEN" run batch.csv "${common[@]}" --simulate latency=20ms >/dev/null 2>"err$i.txt" &
  else
    "$ASSETGEN" run batch.csv --shard "$i/4" "${common[@]}" --simulate latency=20ms >/dev/null 2>"err$i.txt" &
  fi
  pids+=($!)
done
for i in 0 1 2 3; do
  rc=0
  wait "${pids[$i]}" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 3 ] || { cat "err$i.txt" >&2; fail "shard $i/4 exited $rc"; }
done
assert_contains err0.txt "retried task (attempt 1)"
cat err*.txt >all.txt
assert_contains err0.txt "released the lease"
gcs_get bkt "ledger/$day.jsonl" day.jsonl
gcs_get bkt "$doc" doc.json
python3 <<'PY' || fail "budget after the SIGKILL"
import json, sys
from decimal import Decimal
lines = [json.loads(l, parse_float=Decimal) for l in open('day.jsonl') if l.strip()]
paid = [l for l in lines if l['images'] > 0]
assert len({l['id'] for l in lines}) == len(lines), 'a ledger line twice'
total = sum(l['images'] for l in paid)
assert total == 14, f'{total} images (the dead lease stranded budget, or was overspent)'
assert sum(l['cost'] for l in lines) <= Decimal('1.00')
assert json.load(open('doc.json'))['modes']['dry_run']['leases'] == {}, 'a lease was left behind'
print(f'{total} images')
PY
echo "ok: a SIGKILL'd shard's lease strands budget only until its task is retried; 14 images, \$1.00 not exceeded"
