#!/usr/bin/env bash
# One budget across machines: 4 shard processes at --concurrency 16 against one $1.00 dry-run
# budget (≈ $0.0672 an image, gemini-3.1-flash-image at 1K) with the ledger in gs://, coordinated only by the lease document
# gs://bkt/ledger/budget/<day>/<user>.json. Over 20 repetitions, and 20 more with 10% of the
# document's writes refused with 412: exactly 14 images in total (all that fit: 15 would not),
# overshoot 0, each ledger line once, every lease given back at the end.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs

ag seed >batch.csv 2>/dev/null
day=$(date -u +%Y-%m-%d)
export ASSETGEN_USER=lease-test

one_repetition() {  # $1: repetition, $2: 1 = inject 412s on the budget document's writes
  fake_post "$(fake_url gcs)/_fake/reset" "{\"seed\": $1}"
  if [ "$2" = 1 ]; then
    fake_post "$(fake_url gcs)/_fake/faults" \
      '{"rules": [{"fault": "412", "rate": 0.1, "ops": ["upload"], "object_prefix": "ledger/budget/"}]}'
  fi
  rm -rf out "$T/spool" err*.txt
  local pids=() i
  for i in 0 1 2 3; do
    "$ASSETGEN" run batch.csv --shard "$i/4" --concurrency 16 --daily-budget-usd 1 --budget-policy partial \
      --out out --ledger gs://bkt/ledger --simulate "latency=20ms,jitter=15ms,seed=$1" \
      >/dev/null 2>"err$i.txt" &
    pids+=($!)
  done
  for i in 0 1 2 3; do
    local rc=0
    wait "${pids[$i]}" || rc=$?
    # 0: the shard's rows all fit; 3: the budget ran out for some of them.
    if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
      cat "err$i.txt" >&2
      fail "repetition $1: shard $i/4 exited $rc"
    fi
  done
  gcs_get bkt "ledger/$day.jsonl" day.jsonl
  gcs_get bkt "ledger/budget/$day/lease-test.json" doc.json
  cat err*.txt >>all-err.txt
  python3 - "$1" "$2" "$(fake_url gcs)" <<'PY' || fail "repetition $1 (412s: $2)"
import json, sys, urllib.request
from decimal import Decimal
rep, faults, base = sys.argv[1], sys.argv[2], sys.argv[3]
lines = [json.loads(l, parse_float=Decimal) for l in open('day.jsonl') if l.strip()]
ids = [l['id'] for l in lines]
assert len(ids) == len(set(ids)), 'a ledger line twice'
images = sum(l['images'] for l in lines)
cost = sum(l['cost'] for l in lines)
assert images == 14, f'{images} images'
assert cost <= Decimal('1.00'), f'overshoot: {cost}'
paid = [l for l in lines if l['images'] > 0]
assert all(l.get('lease') for l in paid), 'a paid line without its lease'
assert {l['shard'] for l in paid} <= {'0/4', '1/4', '2/4', '3/4'}
doc = json.load(open('doc.json'))
assert doc['user'] == 'lease-test' and doc['modes']['dry_run']['leases'] == {}, doc
stats = json.load(urllib.request.urlopen(base + '/_fake/stats'))
refused = stats.get('by_fault', {}).get('412', 0)
open('refused.txt', 'a').write(f'{faults} {refused}\n')
print(f'rep {rep}: {images} images, ${cost}, {refused} injected 412s')
PY
}

for rep in $(seq 1 20); do one_repetition "$rep" 0; done
for rep in $(seq 21 40); do one_repetition "$rep" 1; done
injected=$(awk '$1 == 1 { s += $2 } END { print s + 0 }' refused.txt)
[ "$injected" -ge 10 ] || fail "only $injected 412s were injected over 20 repetitions"
grep -q "[1-9][0-9]* redone after 412" all-err.txt || fail "no lease update was redone after a 412"
echo "ok: 4 shards × 16 share \$1.00 through leases: 14 images, overshoot 0, in 40 repetitions (20 with 10% 412s)"
