#!/usr/bin/env bash
# A shard task killed with SIGKILL mid-run and retried (CLOUD_RUN_TASK_ATTEMPT=1, same index) is
# the same command: it resumes its own manifest and makes only its missing images; the ledger
# has exactly one line per image. A merge in between names the shard with missing rows.
source "$(dirname "$0")/common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX

ag seed --rows 1200 >big.csv 2>/dev/null
images=$(python3 -c 'import csv, hashlib
def shard(s, n): return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big") % n
print(sum(int(r["variants"]) for r in csv.DictReader(open("big.csv")) if shard(r["scene_id"], 4) == 2))')
cmd=("$ASSETGEN" run big.csv --simulate latency=20ms,jitter=10ms,seed=3 --concurrency 8 --daily-budget-usd 1000)
# The first attempt, killed: started directly (not in a function's subshell) so that $! is its pid.
CLOUD_RUN_TASK_INDEX=2 CLOUD_RUN_TASK_COUNT=4 CLOUD_RUN_TASK_ATTEMPT=0 "${cmd[@]}" >/dev/null 2>&1 &
pid=$!
cleanup_pids+=("$pid")
for _ in $(seq 1 400); do
  n=$(cat out/*/shards/2-of-4/manifest.jsonl 2>/dev/null | wc -l || true)
  [ "${n:-0}" -ge 80 ] && break
  sleep 0.05
done
kill -KILL $pid
wait $pid 2>/dev/null || true
job=$(ls out)
done_before=$(count_lines "out/$job/shards/2-of-4/manifest.jsonl")
[ "$done_before" -gt 0 ] && [ "$done_before" -lt "$images" ] || fail "kill landed at $done_before of $images"

# The merge sees shard 2 incomplete (and the other shards never ran).
expect_exit 1 ag run big.csv --merge --shards 4 --report partial.html
assert_contains err.txt "rows are missing images"
assert_contains err.txt "2/4"
python3 - "$done_before" <<'PY' || fail "the contact sheet of an incomplete merge"
import sys
html = open('partial.html').read()
ok = html.count('class="card status-ok"')
assert ok == int(sys.argv[1]), (ok, sys.argv[1])
assert html.count('class="card status-missing"') > 0
assert "in no shard&#39;s manifest (shard 2/4)" in html or "in no shard's manifest (shard 2/4)" in html
PY

CLOUD_RUN_TASK_INDEX=2 CLOUD_RUN_TASK_COUNT=4 CLOUD_RUN_TASK_ATTEMPT=1 expect_exit 0 "${cmd[@]}"
assert_contains err.txt "retried task (attempt 1)"
assert_contains err.txt "($done_before already done)"
python3 - "$job" "$images" <<'PY' || fail "after the retry"
import json, glob, sys
job, images = sys.argv[1], int(sys.argv[2])
raw = open('out/%s/shards/2-of-4/manifest.jsonl' % job).read()
lines = raw.split('\n')
assert lines[-1] == ''
man = [json.loads(l) for l in lines[:-1]]
keys = [(m['scene_id'], m['variant']) for m in man]
assert len(keys) == len(set(keys)) == images, (len(keys), len(set(keys)), images)
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
ok = [l for l in led if l['status'] == 'ok']
assert len(ok) == len({l['id'] for l in ok}) == images, (len(ok), images)
assert len({(l['scene_id'], l['variant']) for l in ok}) == images
assert all(l['shard'] == '2/4' for l in led)
assert sum(l['images'] for l in led) == images
PY
echo "ok: shard 2/4 killed at $done_before of $images images; the retried task made only the rest"
