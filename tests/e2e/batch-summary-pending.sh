#!/usr/bin/env bash
# summary.json and --json of a batch run say whether its batches still run. (1) --no-wait while
# the fake holds the batch PENDING: exit 75, status "pending", batch.pending names the chunk
# (assetgen-<job>-c1, its state, its requests) and batch.reservedPendingUsd is its reservation
# (the reserve line's amount); the same in <out>/<job>/summary.json. (2) Collected: status "ok",
# batch.pending empty, nothing reserved, one chunk collected.
source "$(dirname "$0")/common.inc"
source "$(dirname "$0")/batch-common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20

start_batch_fake --batch-schedule PENDING,RUNNING,SUCCEEDED
one_variant_batch b.csv 3
run_it() { ag run b.csv --mode live --api-base "$base" --tier batch --poll-every 0s --job-id sp \
  --json "$@"; }

batch_knob '{"hold":true}'
expect_exit 75 run_it --no-wait
cp out.txt pending.json
python3 - <<'PY' || fail "the summary while the batch is pending"
import glob, json
from decimal import Decimal
led = [json.loads(l, parse_float=Decimal) for p in glob.glob('ledger/*.jsonl') for l in open(p)
       if l.strip()]
reserve = [l for l in led if l.get('kind') == 'reserve']
assert len(reserve) == 1, reserve
for doc in (json.load(open('pending.json'), parse_float=Decimal),
            json.load(open('out/sp/summary.json'), parse_float=Decimal)):
    assert doc['status'] == 'pending', doc['status']
    b = doc['batch']
    assert [(c['name'], c['requests']) for c in b['pending']] == [('assetgen-sp-c1', 3)], b
    assert b['pending'][0]['state'] in ('PENDING', 'BATCH_STATE_PENDING'), b
    assert b['pending'][0]['reservedUsd'] == reserve[0]['reserved'] > 0, (b, reserve)
    assert b['reservedPendingUsd'] == reserve[0]['reserved'], (b, reserve)
    assert b['rowsPending'] == 3 and b['chunksCreated'] == 1 and b['chunksCollected'] == 0, b
    assert doc['imagesGenerated'] == 0 and doc['rowsFailed'] == 0, doc
PY

batch_knob '{"hold":false}'
expect_exit 0 run_it
cp out.txt done.json
python3 - <<'PY' || fail "the summary once the batch is collected"
import json
for doc in (json.load(open('done.json')), json.load(open('out/sp/summary.json'))):
    assert doc['status'] == 'ok', doc['status']
    b = doc['batch']
    assert b['pending'] == [] and b['reservedPendingUsd'] == 0 and b['rowsPending'] == 0, b
    assert b['chunksCreated'] == 0 and b['chunksCollected'] == 1, b
    assert doc['imagesGenerated'] == 3 and doc['rowsOk'] == 3, doc
PY
echo "ok: summary.json says pending (chunk names, reserved money) while the batch runs, ok once collected"
