#!/usr/bin/env bash
# `ledger verify --out gs://…` reads the published manifests from the bucket: a clean gs:// job
# verifies (exit 0, its manifest counted); a manifest that lost a line shows the ledger's ok line
# as unrecorded_image, and a ledger line missing from the ledger shows as missing_ledger_entry
# (exit 1), each naming the gs:// manifest.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs

one_variant_batch batch.csv 5
expect_exit 0 ag run batch.csv --job-id j3 --out gs://bkt/out --ledger gs://bkt/ledger --daily-budget-usd 10 --simulate latency=1ms
expect_exit 0 ag ledger verify gs://bkt/ledger --out gs://bkt/out --json
python3 -c 'import json; v = json.load(open("out.txt")); assert v["ok"] and v["manifests"] == 1 and v["manifestLines"] == 5 == v["entries"], v' ||
  fail "clean gs:// job: $(cat out.txt)"

# The bucket's manifest loses its first line, and gains one with no ledger line.
gcs_get bkt out/j3/manifest.jsonl manifest.jsonl
python3 - <<'PY'
import json
lines = open('manifest.jsonl').read().splitlines()
gone = json.loads(lines[0])
extra = json.loads(lines[1])
extra['ledger_id'] = 'j3/never-paid/v1'
extra['scene_id'] = 'never-paid'
open('edited.jsonl', 'w').write('\n'.join(lines[1:] + [json.dumps(extra)]) + '\n')
open('gone.txt', 'w').write(gone['ledger_id'])
PY
gcs_put bkt out/j3/manifest.jsonl edited.jsonl
expect_exit 1 ag ledger verify gs://bkt/ledger --out gs://bkt/out --json
python3 - "$(cat gone.txt)" <<'PY' || fail "edited gs:// manifest: $(cat out.txt)"
import json, sys
v = json.load(open('out.txt'))
kinds = {f['kind']: f for f in v['findings']}
u = kinds['unrecorded_image']
assert sys.argv[1] in u['message'] and 'gs://bkt/out/j3/manifest.jsonl' in u['message'], u
m = kinds['missing_ledger_entry']
assert m['where'] == 'gs://bkt/out/j3/manifest.jsonl:5' and 'never-paid' in m['message'], m
PY
# --manifest takes a gs:// object too, and a missing one is named.
expect_exit 1 ag ledger verify gs://bkt/ledger --manifest gs://bkt/out/j3/manifest.jsonl
expect_exit 66 ag ledger verify gs://bkt/ledger --manifest gs://bkt/out/nope/manifest.jsonl
assert_contains err.txt "gs://bkt/out/nope/manifest.jsonl: no such manifest"
echo "ok: ledger verify reads gs:// manifests (unrecorded_image, missing_ledger_entry)"
