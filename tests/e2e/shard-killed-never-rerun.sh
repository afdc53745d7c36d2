#!/usr/bin/env bash
# A shard SIGKILLed between an image's manifest line and its ledger line, and never run again:
# the unsharded run (which holds the job exclusively, so no shard runs) writes the lost line
# back, once, and releases the dead shard's budget holdings; `--merge` does the same for a
# killed shard of its own. The state a kill leaves is planted: the shard's last ok ledger line
# deleted, and a journal line of a dead process holding money for the shard's place.
source "$(dirname "$0")/common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX

ag seed --rows 40 >batch.csv 2>/dev/null
total=$(python3 -c 'import csv; print(sum(int(r["variants"]) for r in csv.DictReader(open("batch.csv"))))')
dead_pid=2147483000  # above any pid_max: never a live process

# As a kill leaves it: the shard's last ok line gone, and its holdings in the budget journal.
kill_after_manifest() {  # $1: shard folder name (I-of-N)
  local manifest
  manifest="$(cd "out/$(ls out)/shards/$1" && pwd)/manifest.jsonl"
  python3 - "$manifest" "$dead_pid" <<'PY'
import json, glob, sys
manifest, pid = sys.argv[1], int(sys.argv[2])
day = sorted(glob.glob('ledger/*.jsonl'))[-1]
lines = open(day).read().splitlines(True)
last = max(i for i, l in enumerate(lines) if json.loads(l)['status'] == 'ok')
del lines[last]
open(day, 'w').writelines(lines)
held = {"pid": pid, "start": 7, "held": 50000000, "day": day[-16:-6], "place": manifest}
with open('ledger/.budget/e2e.dry_run.jsonl', 'a') as f:
    f.write(json.dumps(held) + '\n')
PY
}
# Each image of the batch has exactly one ok ledger line.
check_ledger() {  # $1: what
  python3 - "$total" <<'PY' || fail "$1: ledger"
import json, glob, sys
total = int(sys.argv[1])
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
ok = [l for l in led if l['status'] == 'ok']
keys = [(l['scene_id'], l['variant']) for l in ok]
assert len(keys) == len(set(keys)) == total, (len(keys), len(set(keys)), total)
PY
}
# `ledger verify` reads the job's own manifest and its shards' (each image once): clean after the merge.
check_verify() {
  expect_exit 0 ag run batch.csv --merge --shards 2
  expect_exit 0 ag ledger verify ledger
}
# The dead process's holdings were released (a journal line holding 0 for it).
check_released() {  # $1: what
  python3 - "$dead_pid" <<'PY' || fail "$1: the dead shard's holdings still count"
import json, sys
pid = int(sys.argv[1])
last = [json.loads(l) for l in open('ledger/.budget/e2e.dry_run.jsonl') if json.loads(l)['pid'] == pid][-1]
assert last['held'] == 0, last
PY
}

# 1. A killed shard 0/2, then the unsharded run. The dead shard holds $50, more than the $10
#    daily budget: counted, its holdings would refuse the rest of the run.
expect_exit 0 ag run batch.csv --shard 0/2
kill_after_manifest 0-of-2
expect_exit 0 ag run batch.csv
assert_contains err.txt "ledger: restored 1 line(s)"
check_released "unsharded run"
check_ledger "after the unsharded run"
expect_exit 0 ag run batch.csv
assert_contains err.txt "$total images ($total already done)"
check_ledger "after a second unsharded run"
check_verify

# 2. Another job (another id): both shards run, shard 1/2 killed; --merge restores its line.
rm -rf out ledger
expect_exit 0 ag run batch.csv --shard 0/2
expect_exit 0 ag run batch.csv --shard 1/2
kill_after_manifest 1-of-2
expect_exit 0 ag run batch.csv --merge --shards 2
assert_contains err.txt "ledger: restored 1 line(s)"
check_released "--merge"
check_ledger "after --merge"
expect_exit 0 ag run batch.csv --merge --shards 2
check_ledger "after a second --merge"
expect_exit 0 ag ledger verify ledger
echo "ok: a killed shard's lost ledger line restored once by the unsharded run and by --merge; its holdings released"
