#!/usr/bin/env bash
# A gs:// reference that Cloud Storage keeps refusing with 503 is read at most as often as the
# GCS read policy says (6 attempts, README "Retries"), not that times the reference fetcher's
# own 3 attempts (the two loops used to nest: 18 reads). The row then fails with
# REF_FETCH_FAILED naming the object and the attempts. The fake counts the reads it saw.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
start_gcs

make_pngs imgs r0.png:ref-0
gcs_put bkt refs/r0.png imgs/r0.png
fake_post "$(fake_url gcs)/_fake/faults" \
  '{"rules":[{"fault":"503","first_n":1000,"ops":["read"],"object_prefix":"refs/"}]}'
printf 'scene_id,prompt,variants,refs\nROW-1,product,1,gs://bkt/refs/r0.png\n' >batch.csv
expect_exit 1 ag run batch.csv --fetch-refs --out out --ledger ledger --ref-failure fail --no-ref-cache
assert_contains err.txt "REF_FETCH_FAILED"
assert_contains err.txt "gs://bkt/refs/r0.png"
assert_contains err.txt "after 6 attempts"

fake_get "$(fake_url gcs)/_fake/log" log.json
reads=$(python3 -c 'import json
print(sum(1 for e in json.load(open("log.json")) if e["op"] == "read" and e["object"] == "refs/r0.png"))')
[ "$reads" -eq 6 ] || fail "the gs:// ref was read $reads times; the GCS read policy allows 6"
echo "ok: a failing gs:// ref is read 6 times (one retry loop), not 18"
