#!/usr/bin/env bash
# Shards through Cloud Storage (the loopback fake): two shard processes at once with --out and
# --ledger in gs://, each with its own local spool folder and its own records in
# gs://…/<job>/shards/<I>-of-2/; --merge --shards 2 reads them from gs:// and writes the job's
# manifest (199 images), summary and results there.
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs

ag seed >batch.csv 2>/dev/null
gcs_put bkt in/batch.csv batch.csv
pids=()
for i in 0 1; do
  "$ASSETGEN" run gs://bkt/in/batch.csv --shard "$i/2" --out gs://bkt/out --ledger gs://bkt/ledger \
    --simulate latency=5ms,seed=1 >"out$i.txt" 2>"err$i.txt" &
  pids+=($!)
done
for i in 0 1; do
  wait "${pids[$i]}" || { cat "err$i.txt" >&2; fail "shard $i/2 failed"; }
done
job=$(grep -o 'job-[0-9a-f]*' err0.txt | head -1)
assert_eq "$(grep -o 'job-[0-9a-f]*' err1.txt | head -1)" "$job" "job id of shard 1"
gcs_names bkt out/ >names.txt
assert_eq "$(grep -c '\.png$' names.txt)" 199 "PNG objects"
for i in 0 1; do
  for f in manifest.jsonl summary.json state.json; do
    grep -qx "out/$job/shards/$i-of-2/$f" names.txt || fail "no out/$job/shards/$i-of-2/$f"
  done
  [ -f "$(ls -d "$T"/spool/jobs/*-"$job"/shards/"$i-of-2")/manifest.jsonl" ] || fail "no local spool for shard $i"
done
grep -qx "out/$job/manifest.jsonl" names.txt && fail "a shard published the job's own manifest"

expect_exit 0 ag run gs://bkt/in/batch.csv --out gs://bkt/out --ledger gs://bkt/ledger --merge --shards 2 \
  --results gs://bkt/res/results.csv
assert_contains err.txt "199 of 199 images"
gcs_get bkt "out/$job/manifest.jsonl" manifest.jsonl
gcs_get bkt "out/$job/summary.json" summary.json
gcs_get bkt res/results.csv results.csv
day=$(date -u +%Y-%m-%d)
gcs_get bkt "ledger/$day.jsonl" day.jsonl
python3 - "$job" <<'PY' || fail "merged records in gs://"
import csv, hashlib, json, sys
job = sys.argv[1]
def shard(s, n): return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], 'big') % n
man = [json.loads(l) for l in open('manifest.jsonl')]
assert len(man) == 199 and len({(m['scene_id'], m['variant']) for m in man}) == 199
assert all(m['uri'].startswith('gs://bkt/out/%s/' % job) for m in man)
assert all(m['shard'] == '%d/2' % shard(m['scene_id'], 2) for m in man)
s = json.load(open('summary.json'))
assert s['imagesGenerated'] == 199 and s['merged']['rowsMissing'] == 0, s
res = list(csv.DictReader(open('results.csv')))
assert len(res) == 100 and all(r['status'] == 'ok' for r in res)
led = [json.loads(l) for l in open('day.jsonl') if l.strip()]
assert len(led) == 199 and len({l['id'] for l in led}) == 199, len(led)
assert all(l['shard'] == '%d/2' % shard(l['scene_id'], 2) for l in led)
PY
echo "ok: 2 shards into gs://, merged from gs:// to 199 images"
