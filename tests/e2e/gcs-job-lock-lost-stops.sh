#!/usr/bin/env bash
# A run that loses its gs:// job lock stops paying. Here another machine takes the job over
# while the run is still going: the run stalled past --job-lock-ttl, say (what the other machine
# saw). The document is changed as that takeover would change it (this run's entry dropped,
# another holder's added). At its next renewal (every ttl/4) the run learns it lost the job. It
# starts no new request and exits 78 naming the takeover. It leaves the other run's lock alone.
# What it made before that is stored and charged once.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs

one_variant_batch batch.csv 100
export ASSETGEN_SPOOL_DIR="$T/spool-a"
"$ASSETGEN" run batch.csv --job-id j3 --out gs://bkt/out --ledger gs://bkt/ledger --daily-budget-usd 1000 \
  --job-lock-ttl 4s --simulate latency=200ms --concurrency 1 >a.out 2>a.err &
runner=$!
cleanup_pids+=("$runner")
for _ in $(seq 1 600); do
  gcs_get bkt out/j3/lock.json lock.json 2>/dev/null && break
  kill -0 $runner 2>/dev/null || fail "the run ended before it held the lock: $(cat a.err)"
  sleep 0.02
done
[ -s lock.json ] || fail "no lock document in the bucket"
python3 - <<'PY'
import json
d = json.load(open('lock.json'))
d['holders'] = {'other-machine': {'shard': '', 'host': 'other-host', 'pid': 4242,
                                  'started_ms': d['updated_ms'], 'expires_ms': d['updated_ms'] + 3_600_000,
                                  'local': '/elsewhere'}}
json.dump(d, open('taken.json', 'w'))
PY
gcs_put bkt out/j3/lock.json taken.json
set +e
wait $runner
code=$?
set -e
[ "$code" -eq 78 ] || fail "a run that lost its job lock exited $code, not 78: $(cat a.err)"
assert_contains a.err "another run took job j3 over; this run starts no new request"

gcs_get bkt out/j3/lock.json after.json
grep -q '"other-host"' after.json || fail "the run that lost the lock removed the other run's entry: $(cat after.json)"
gcs_names bkt out/j3/ | grep -c '\.png$' >images.txt || true
images=$(cat images.txt)
[ "$images" -lt 100 ] || fail "the run made all 100 images after losing its lock"
# Its ledger lines are pushed by the next run on this machine (they wait in the spool): every
# stored image has exactly one paid line, none without an image.
python3 - "$T/spool-a" "$images" <<'PY' || fail "the ledger of the run that lost its lock"
import json, os, sys
spool, images = sys.argv[1], int(sys.argv[2])
lines = []
for root, _, files in os.walk(spool):
    for f in files:
        if f.endswith('.jsonl') and 'ledger' in root + f:
            lines += [json.loads(l) for l in open(os.path.join(root, f)) if l.strip()]
ok = [(l['scene_id'], l['variant']) for l in lines if l.get('status') == 'ok' and l.get('jobId') == 'j3']
assert len(ok) == len(set(ok)), 'an image charged twice'
assert len(set(ok)) == images, f'{len(set(ok))} paid lines for {images} stored images'
PY
echo "ok: a run that lost its gs:// job lock stops starting requests and exits 78 ($images of 100 made)"
