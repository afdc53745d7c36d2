#!/usr/bin/env bash
# Reference images in gs:// are read through the same Cloud Storage client as everything else:
# 20 rows naming 2 distinct gs:// refs fetch each object once, every row runs with its ref
# (--ref-failure fail, so a missing ref would fail the row), and a ref to a missing object
# fails its row with REF_FETCH_FAILED naming the object.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
start_gcs

make_pngs imgs r0.png:ref-0 r1.png:ref-1
gcs_put bkt refs/r0.png imgs/r0.png
gcs_put bkt refs/r1.png imgs/r1.png
python3 - <<'PY'
import csv
with open('batch.csv', 'w', newline='') as f:
    w = csv.writer(f, lineterminator='\n')
    w.writerow(['scene_id', 'prompt', 'variants', 'refs'])
    for i in range(20):
        w.writerow(['ROW-%02d' % i, 'product #%d' % i, 1, 'gs://bkt/refs/r%d.png' % (i % 2)])
PY
expect_exit 0 ag run batch.csv --fetch-refs --out gs://bkt/out --ledger ledger --ref-failure fail --no-ref-cache --json
python3 -c 'import json; s=json.load(open("out.txt")); r=s["refs"]
assert s["imagesGenerated"]==20 and s["errors"]==0, s
assert r["fetched"]==2 and r["failed"]==0, r' || fail "summary refs: $(cat out.txt)"

printf 'scene_id,prompt,variants,refs\nGONE,product,1,gs://bkt/refs/missing.png\n' >gone.csv
expect_exit 1 ag run gone.csv --fetch-refs --out gs://bkt/out --ledger ledger --ref-failure fail --no-ref-cache
assert_contains err.txt "REF_FETCH_FAILED"
assert_contains err.txt "gs://bkt/refs/missing.png"
echo "ok: gs:// refs read once each through the GCS client; a missing object fails its row by name"
