#!/usr/bin/env bash
# `ledger verify` on a sharded job before --merge: each shard keeps its manifest at
# out/<job>/shards/I-of-N/manifest.jsonl, and verify reads them with the job's. A shard's image
# whose ledger line is gone (missing_ledger_entry) and a paid line whose image is in no manifest
# (unrecorded_image) are reported (exit 1); a consistent sharded job, merged or not, is clean
# (each image counted once though the merged manifest repeats the shards' lines). Fails on a
# build whose verify reads only out/<job>/manifest.jsonl (it finds nothing wrong).
source "$(dirname "$0")/common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX

ag seed --rows 12 >batch.csv 2>/dev/null
expect_exit 0 ag run batch.csv --shard 0/2
expect_exit 0 ag run batch.csv --shard 1/2
[ ! -e "out/$(ls out)/manifest.jsonl" ] || fail "a shard wrote the job's own manifest"
expect_exit 0 ag ledger verify ledger --out out
assert_contains err.txt "in 2 manifests"

# Shard 1's last ok ledger line lost; shard 0's last manifest line lost.
python3 - "out/$(ls out)" <<'PY'
import json, glob, sys
job = sys.argv[1]
day = sorted(glob.glob('ledger/*.jsonl'))[-1]
lines = open(day).read().splitlines(True)
last = max(i for i, l in enumerate(lines) if json.loads(l)['status'] == 'ok' and json.loads(l).get('shard') == '1/2')
del lines[last]
open(day, 'w').writelines(lines)
m = job + '/shards/0-of-2/manifest.jsonl'
kept = open(m).read().splitlines(True)[:-1]
open(m, 'w').writelines(kept)
PY
expect_exit 1 ag ledger verify ledger --out out
assert_contains out.txt "/shards/1-of-2/manifest.jsonl:"
assert_contains out.txt "missing_ledger_entry"
assert_contains out.txt "unrecorded_image"
assert_contains out.txt "has no image in"

# Consistent again, then merged: the merged manifest and the shards' list each image once.
rm -rf out ledger
expect_exit 0 ag run batch.csv --shard 0/2
expect_exit 0 ag run batch.csv --shard 1/2
expect_exit 0 ag run batch.csv --merge --shards 2
expect_exit 0 ag ledger verify ledger --out out
assert_contains err.txt "in 3 manifests"
echo "ok: ledger verify checks shards' manifests before --merge, and counts each image once after it"
