#!/usr/bin/env bash
# SIGKILL in the middle of a 1,999-image dry run into gs:// (images, manifest and ledger in the
# loopback fake), then the same command again: in gs:// every image exists exactly once, the
# published manifest has each image once and no torn line, and the ledger has exactly one line
# per image (`ledger verify` finds nothing).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
start_gcs

ag seed --rows 1000 >big.csv 2>/dev/null  # 1,999 images
images=$(python3 -c 'import csv; print(sum(int(r["variants"]) for r in csv.DictReader(open("big.csv"))))')
ledger=${GCS_LEDGER:-gs://bkt/ledger}
cmd=("$ASSETGEN" run big.csv --out gs://bkt/out --ledger "$ledger" --simulate latency=20ms,jitter=10ms,seed=3
     --concurrency 16 --daily-budget-usd 1000 --checkpoint-every 1s --quiet)
"${cmd[@]}" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  n=$(cat "$T"/spool/jobs/*/manifest.jsonl 2>/dev/null | wc -l || true)
  [ "${n:-0}" -ge 300 ] && break
  sleep 0.05
done
kill -KILL $pid
wait $pid 2>/dev/null || true
done_before=$(cat "$T"/spool/jobs/*/manifest.jsonl | wc -l)
[ "$done_before" -gt 0 ] && [ "$done_before" -lt "$images" ] || fail "kill landed at $done_before of $images"

expect_exit 0 "${cmd[@]}"
job=$(ls "$T/spool/jobs" | sed 's/^[0-9a-f]*-//')
gcs_get bkt "out/$job/manifest.jsonl" manifest.jsonl
gcs_names bkt "out/$job/" >names.txt
assert_eq "$(grep -c '\.png$' names.txt)" "$images" "PNG objects in gs://"
python3 - "$job" "$images" <<'PY' || fail "published manifest after resume"
import json, sys
job, images = sys.argv[1], int(sys.argv[2])
raw = open('manifest.jsonl').read()
lines = raw.split('\n')
assert lines[-1] == '', 'manifest does not end with a newline'
man = [json.loads(l) for l in lines[:-1]]
keys = [(m['scene_id'], m['variant']) for m in man]
assert len(keys) == len(set(keys)) == images, (len(keys), len(set(keys)), images)
PY
expect_exit 0 ag ledger verify "$ledger" --manifest manifest.jsonl --json
python3 - "$images" <<'PY' || fail "ledger verify after resume: $(cat out.txt)"
import json, sys
v = json.load(open('out.txt'))
assert v['ok'] and not v['findings'] and v['entries'] == int(sys.argv[1]) == v['manifestLines'], v
PY
expect_exit 0 ag ledger sum "$ledger" --json
python3 -c 'import json, sys; s = json.load(open("out.txt")); assert s["total"]["images"] == int(sys.argv[1]), s' "$images" \
  || fail "ledger sum: $(cat out.txt)"
echo "ok: killed at $done_before of $images images into gs://; resumed to exactly one of each, ledger verified"
