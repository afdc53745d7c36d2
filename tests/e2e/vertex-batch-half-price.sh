#!/usr/bin/env bash
# `run --api vertex --tier batch` through the fakes: the seed's 199 images (100 rows) go to
# --batch-staging gs://bkt/stage as one input file, one batchPredictionJob (assetgen-<job>-c1)
# reads it and writes its predictions back into the bucket, the run polls (--poll-every 0s: the
# fake moves one state per get), streams them and stores 199 valid PNGs. The ledger: one reserve
# line, 199 paid lines bound to it at the batch tier, one settle line of their sum. The same plan
# with --api vertex --tier standard against the same fake costs exactly twice as much, to the
# micro-dollar (prompts padded to a multiple of 4 tokens, as batch-tier-half-price.sh explains).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/vertex-batch-common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20
start_vertex_batch_fakes

ag seed --refs-every 0 >seed.csv 2>/dev/null   # 100 rows, 199 images
python3 - <<'PY'
import csv
rows = list(csv.DictReader(open('seed.csv')))
w = csv.DictWriter(open('batch.csv', 'w', newline=''), fieldnames=rows[0].keys(), lineterminator='\n')
w.writeheader()
for r in rows:
    r['prompt'] += 'x' * ((-len(r['prompt'])) % 16)   # tokens = len // 4, a multiple of 4
    w.writerow(r)
PY

# 1. The batch tier through Vertex.
expect_exit 0 ag run batch.csv "${vflags[@]}" --tier batch --poll-every 0s \
  --batch-staging gs://bkt/stage/ --out b/out --ledger b/ledger --json
cp out.txt batch-summary.json
assert_contains err.txt "Vertex AI batch prediction in projects/p/locations/us-central1"
assert_contains err.txt "staging gs://bkt/stage"
job=$(python3 -c 'import json; print(json.load(open("batch-summary.json"))["jobId"])')
vertex_jobs jobs.json
python3 - "$job" <<'PY' || fail "the fake did not see one job of 199 requests staged under gs://bkt/stage"
import json, sys
j = json.load(open('jobs.json'))
name = 'assetgen-%s-c1' % sys.argv[1]
assert len(j) == 1 and j[0]['displayName'] == name and j[0]['state'] == 'SUCCEEDED', j
assert j[0]['requests'] == 199, j[0]
assert j[0]['input'] == 'gs://bkt/stage/%s/input.jsonl' % name, j[0]['input']
assert j[0]['output'].startswith('gs://bkt/stage/%s/output/prediction-model-' % name), j[0]['output']
PY
gcs_names bkt stage/ >names.txt
grep -q "/output/prediction-model-.*/predictions.jsonl$" names.txt || fail "no predictions in the bucket"
grep -q "input.jsonl$" names.txt && fail "the staged input was not removed once the results were in"
total=$(check_batch_job b/out b/ledger 199)

# 2. The standard tier through Vertex, same plan, same fake.
expect_exit 0 ag run batch.csv "${vflags[@]}" --concurrency 8 --out s/out --ledger s/ledger
assert_eq "$(check_pngs "s/out/$job")" 199 "valid PNGs from the standard run"

python3 - "$job" <<'PY' || fail "the Vertex batch ledger is not half the standard one"
import json, glob, sys
job = sys.argv[1]
def lines(d):
    return [json.loads(l) for p in glob.glob(d + '/*.jsonl') for l in open(p) if l.strip()]
micros = lambda usd: round(usd * 1_000_000)
b, s = lines('b/ledger'), lines('s/ledger')
reserve = [l for l in b if l.get('kind') == 'reserve']
settle = [l for l in b if l.get('kind') == 'settle']
paid = [l for l in b if not l.get('kind')]
assert len(reserve) == 1 and len(settle) == 1 and len(paid) == 199, (len(reserve), len(settle), len(paid))
rid = reserve[0]['id']
for l in paid:
    assert l['status'] == 'ok' and l['tier'] == 'batch' and l['reservation'] == rid, l
btotal = sum(micros(l['cost']) for l in paid)
sp = [l for l in s if l['jobId'] == job and l['status'] == 'ok']
stotal = sum(micros(l['cost']) for l in sp)
assert len(sp) == 199 and all(l.get('tier', 'standard') == 'standard' for l in sp), sp[:1]
assert micros(settle[0]['settled']) == btotal, (settle[0]['settled'], btotal)
by_scene = {(l['scene_id'], l['variant']): micros(l['cost']) for l in sp}
for l in paid:
    assert 2 * micros(l['cost']) == by_scene[(l['scene_id'], l['variant'])], l
assert 2 * btotal == stotal, (btotal, stotal)
print('vertex batch $%.6f = half of vertex standard $%.6f, to the micro-dollar (199 images)' % (btotal / 1e6, stotal / 1e6))
PY
echo "ok: 199 PNGs through Vertex batch prediction; the ledger is half the standard tier's ($total micro-dollars)"
