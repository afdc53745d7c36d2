#!/usr/bin/env bash
# A canary per shard: `canary --shard I/2` runs that shard's rows in stages (its stage subsets
# are drawn from its own rows), records into <job>/shards/I-of-2/, and tags ledger lines with
# the shard; the two shards together cover the batch once, and --merge gives 199 images.
source "$(dirname "$0")/common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX

ag seed >batch.csv 2>/dev/null
for i in 0 1; do
  expect_exit 0 ag canary batch.csv --shard "$i/2" --simulate error_rate=0.02,seed=3 --stages 10,50,100 \
    --daily-budget-usd 100 --concurrency 8 --json
  cp out.txt "canary$i.json"
done
job=$(ls out)
expect_exit 0 ag run batch.csv --merge --shards 2
assert_contains err.txt "199 of 199 images"
python3 - "$job" <<'PY' || fail "sharded canaries"
import csv, glob, hashlib, json, sys
job = sys.argv[1]
def shard(s, n): return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], 'big') % n
rows = {r['scene_id']: int(r['variants']) for r in csv.DictReader(open('batch.csv'))}
for i in (0, 1):
    mine = {s: v for s, v in rows.items() if shard(s, 2) == i}
    r = json.load(open('canary%d.json' % i))
    assert r['verdict'] == 'pass', r['verdict']
    assert sum(s['newRows'] for s in r['results']) == len(mine), (i, len(mine))
    assert r['results'][-1]['images'] == sum(mine.values())
    man = [json.loads(l) for l in open('out/%s/shards/%d-of-2/manifest.jsonl' % (job, i))]
    assert {m['scene_id'] for m in man} == set(mine), i
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
assert len(led) == 199 and len({l['id'] for l in led}) == 199, len(led)
assert all(l['shard'] == '%d/2' % shard(l['scene_id'], 2) for l in led)
PY
echo "ok: a canary per shard covers its rows in stages; merged, 199 images once"
