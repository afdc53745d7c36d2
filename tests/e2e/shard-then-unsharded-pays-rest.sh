#!/usr/bin/env bash
# A completed --shard 0/2 followed by the unsharded command: the unsharded run counts the
# shard's images as done and pays only for shard 1's. A merge afterwards keeps the images the
# unsharded run made, and the unsharded command then finds the job finished.
source "$(dirname "$0")/common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX

ag seed --rows 90 >batch.csv 2>/dev/null
read -r total shard0 <<<"$(python3 -c 'import csv, hashlib
def shard(s, n): return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big") % n
rows = list(csv.DictReader(open("batch.csv")))
print(sum(int(r["variants"]) for r in rows), sum(int(r["variants"]) for r in rows if shard(r["scene_id"], 2) == 0))')"
shard1=$((total - shard0))
expect_exit 0 ag run batch.csv --shard 0/2 --daily-budget-usd 1000
expect_exit 0 ag run batch.csv --daily-budget-usd 1000 --results results.csv
assert_contains err.txt "$total images ($shard0 already done)"
assert_contains err.txt "$shard0 image(s) made by the job's shards count as done"
python3 - "$total" "$shard0" "$shard1" <<'PY' || fail "ledger after shard 0/2 and the unsharded run"
import json, glob, sys, csv
total, shard0, shard1 = map(int, sys.argv[1:])
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
ok = [l for l in led if l['status'] == 'ok']
keys = [(l['scene_id'], l['variant']) for l in ok]
assert len(keys) == len(set(keys)) == total, (len(keys), len(set(keys)), total)
assert sum(1 for l in ok if l['shard'] == '0/2') == shard0
assert sum(1 for l in ok if l['shard'] == '') == shard1
rows = list(csv.DictReader(open('results.csv')))
assert all(r['status'] == 'ok' for r in rows), [r for r in rows if r['status'] != 'ok'][:2]
PY
job=$(ls out)
# The merge of the one shard that ran keeps what the unsharded run made.
expect_exit 0 ag run batch.csv --merge --shards 2
[ "$(count_lines "out/$job/manifest.jsonl")" -eq "$total" ] || fail "the merged manifest lost the unsharded run's images"
expect_exit 0 ag run batch.csv --daily-budget-usd 1000
assert_contains err.txt "$total images ($total already done)"
[ "$(cat ledger/*.jsonl | wc -l)" -eq "$total" ] || fail "a run after the merge paid again"
echo "ok: shard 0/2 ($shard0 images), then unsharded paid only shard 1's $shard1"
