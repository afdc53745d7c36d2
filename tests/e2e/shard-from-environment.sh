#!/usr/bin/env bash
# The shard from a task runner's environment: CLOUD_RUN_TASK_INDEX/COUNT, BATCH_TASK_INDEX/COUNT,
# JOB_COMPLETION_INDEX with --shards; --shard beats them; bad or half-given values are refused
# (exit 78) before anything is written.
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX

ag seed >batch.csv 2>/dev/null
CLOUD_RUN_TASK_INDEX=1 CLOUD_RUN_TASK_COUNT=4 expect_exit 0 ag run batch.csv
assert_contains err.txt "shard 1/4"
job=$(ls out)
[ -f "out/$job/shards/1-of-4/manifest.jsonl" ] || fail "no shards/1-of-4 manifest"
assert_eq "$(ls "out/$job/shards")" "1-of-4" "shard folders"
python3 - "$job" <<'PY' || fail "shard 1/4"
import csv, glob, hashlib, json, sys
job = sys.argv[1]
def shard(s, n): return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], 'big') % n
rows = {r['scene_id']: int(r['variants']) for r in csv.DictReader(open('batch.csv'))}
want = {(s, v) for s, n in rows.items() if shard(s, 4) == 1 for v in range(1, n + 1)}
man = [json.loads(l) for l in open('out/%s/shards/1-of-4/manifest.jsonl' % job)]
assert {(m['scene_id'], m['variant']) for m in man} == want and len(man) == len(want)
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
assert len(led) == len(want) and all(l['shard'] == '1/4' for l in led)
PY
# --shard beats the environment; BATCH_TASK_*; JOB_COMPLETION_INDEX with --shards.
CLOUD_RUN_TASK_INDEX=1 CLOUD_RUN_TASK_COUNT=4 expect_exit 0 ag run batch.csv --shard 0/4
[ -f "out/$job/shards/0-of-4/manifest.jsonl" ] || fail "--shard 0/4 did not beat the environment"
BATCH_TASK_INDEX=2 BATCH_TASK_COUNT=4 expect_exit 0 ag run batch.csv
[ -f "out/$job/shards/2-of-4/manifest.jsonl" ] || fail "BATCH_TASK_INDEX not used"
JOB_COMPLETION_INDEX=3 expect_exit 0 ag run batch.csv --shards 4
[ -f "out/$job/shards/3-of-4/manifest.jsonl" ] || fail "JOB_COMPLETION_INDEX not used"
assert_eq "$(ls out)" "$job" "one job for every shard"
expect_exit 0 ag run batch.csv --merge --shards 4
assert_eq "$(count_lines "out/$job/manifest.jsonl")" 199 "merged manifest"

# A one-task Cloud Run job (0/1, set for every job) is an ordinary run: records in the job folder.
rm -rf out ledger
CLOUD_RUN_TASK_INDEX=0 CLOUD_RUN_TASK_COUNT=1 expect_exit 0 ag run batch.csv
[ -f "out/$job/manifest.jsonl" ] && [ ! -e "out/$job/shards" ] || fail "a one-task job was sharded"

# Refusals, each before anything is written.
rm -rf out ledger
CLOUD_RUN_TASK_INDEX=4 CLOUD_RUN_TASK_COUNT=4 expect_exit 78 ag run batch.csv
assert_contains err.txt "not below the number of shards 4"
CLOUD_RUN_TASK_INDEX=1 expect_exit 78 ag run batch.csv
assert_contains err.txt "CLOUD_RUN_TASK_COUNT"
BATCH_TASK_COUNT=3 expect_exit 78 ag run batch.csv
assert_contains err.txt "BATCH_TASK_INDEX"
JOB_COMPLETION_INDEX=1 expect_exit 78 ag run batch.csv
assert_contains err.txt "--shards"
expect_exit 2 ag run batch.csv --shard 1/0
expect_exit 2 ag run batch.csv --shard 2/2
expect_exit 2 ag run batch.csv --shard x
expect_exit 78 ag run batch.csv --shards 4
expect_exit 2 ag run batch.csv --shard 1/4 --shards 3
[ ! -e out ] && [ ! -e ledger ] || fail "a refused run wrote something"
echo "ok: shard from CLOUD_RUN_TASK_*, BATCH_TASK_*, JOB_COMPLETION_INDEX; flag first; bad values refused"
