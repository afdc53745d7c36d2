#!/usr/bin/env bash
# SIGKILL in the middle of a 2,000-image dry run, then the same command again: every image
# exists exactly once, the manifest has no duplicate and no torn line, the ledger has exactly
# one entry per image.
source "$(dirname "$0")/common.inc"

ag seed --rows 1000 >big.csv 2>/dev/null  # (i % 3) + 1 variants: 1,999 images
images=$(python3 -c 'import csv; print(sum(int(r["variants"]) for r in csv.DictReader(open("big.csv"))))')
cmd=("$ASSETGEN" run big.csv --simulate latency=20ms,jitter=10ms,seed=3 --concurrency 16 --daily-budget-usd 1000 --quiet)
"${cmd[@]}" >/dev/null 2>&1 &
pid=$!
# Kill once a good part is done but long before the end.
for _ in $(seq 1 400); do
  n=$(cat out/*/manifest.jsonl 2>/dev/null | wc -l || true)
  [ "${n:-0}" -ge 300 ] && break
  sleep 0.05
done
kill -KILL $pid
wait $pid 2>/dev/null || true
done_before=$(cat out/*/manifest.jsonl | wc -l)
[ "$done_before" -gt 0 ] && [ "$done_before" -lt "$images" ] || fail "kill landed at $done_before of $images"

expect_exit 0 "${cmd[@]}"
job=$(ls out)
python3 - "$job" "$images" <<'PY' || fail "after resume"
import json, glob, os, sys
job, images = sys.argv[1], int(sys.argv[2])
raw = open('out/%s/manifest.jsonl' % job).read()
lines = raw.split('\n')
assert lines[-1] == '', 'manifest does not end with a newline'
man = [json.loads(l) for l in lines[:-1]]  # a torn line would fail to parse here
keys = [(m['scene_id'], m['variant']) for m in man]
assert len(keys) == len(set(keys)) == images, (len(keys), len(set(keys)), images)
files = [f for _, _, fs in os.walk('out/' + job) for f in fs if f.endswith('.png')]
assert len(files) == images, len(files)
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
ok = [l for l in led if l['status'] == 'ok']
ids = [l['id'] for l in ok]
assert len(ids) == len(set(ids)) == images, (len(ids), len(set(ids)))
assert sum(l['images'] for l in led) == images
PY
echo "ok: killed at $done_before of $images images; resumed to exactly one of each"
