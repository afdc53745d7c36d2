#!/usr/bin/env bash
# `run --api vertex --tier batch --no-wait` with a gs:// --out and no --batch-staging: the input
# is staged beside --out (gs://bkt/imgs.batch-staging/<batch>/input.jsonl), the job created, and
# the run exits 75 with one line on stderr (`batch: assetgen-<job>-c1 PENDING 0/5 done; run the
# same command again to collect`); the same command exits 75 while the fake says RUNNING, then
# collects and exits 0 once it says SUCCEEDED. The later calls upload and create nothing (the GCS
# fake's log: one upload of the input; the Vertex fake: one create).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/vertex-batch-common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20
start_vertex_batch_fakes
one_variant_batch batch.csv 5
run_it() { ag run batch.csv "${vflags[@]}" --tier batch --no-wait --out gs://bkt/imgs --ledger ledger; }

expect_exit 75 run_it
grep -E '^batch: assetgen-job-[0-9a-f]+-c1 PENDING 0/5 done; run the same command again to collect$' err.txt \
  || { cat err.txt >&2; fail "the first call's status line"; }
assert_contains err.txt "staging gs://bkt/imgs.batch-staging"
gcs_names bkt imgs.batch-staging/ >names.txt
grep -qE '^imgs.batch-staging/assetgen-job-[0-9a-f]+-c1/input.jsonl$' names.txt || { cat names.txt >&2; fail "the input is not beside --out"; }
assert_eq "$(grep -c '"kind":"reserve"' ledger/*.jsonl)" 1 "reserve lines while pending"
expect_exit 75 run_it
grep -qE '^batch: assetgen-job-[0-9a-f]+-c1 RUNNING [0-9]+/5 done; run the same command again to collect$' err.txt \
  || { cat err.txt >&2; fail "the second call's status line"; }
expect_exit 0 run_it
assert_contains err.txt "5 images collected, 0 failed"
assert_eq "$(grep -c '"kind":"settle"' ledger/*.jsonl)" 1 "settle lines once collected"
gcs_names bkt imgs/ >imgs.txt
assert_eq "$(grep -c '\.png$' imgs.txt)" 5 "images in the bucket"
expect_exit 0 run_it   # nothing left: no new job
vertex_counters counters.json
fake_get "$gcs/_fake/log" gcslog.json
python3 - <<'PY' || fail "the later calls uploaded or created something"
import json
c = json.load(open('counters.json'))
log = json.load(open('gcslog.json'))
uploads = [e for e in log if e.get('op') == 'upload' and 'input.jsonl' in (e.get('object') or '')
           and e.get('kind') in ('media', 'multipart', 'resumable-start')]
assert c['creates'] == 1, c
assert len(uploads) == 1, uploads
print('over four calls: %d create, %d upload of the input' % (c['creates'], len(uploads)))
PY
echo "ok: --no-wait exits 75 until SUCCEEDED, then collects; staging beside gs:// --out; later calls create nothing"
