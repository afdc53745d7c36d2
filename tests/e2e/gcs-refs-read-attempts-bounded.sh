#!/usr/bin/env bash
# A gs:// reference that Cloud Storage keeps refusing with 503 is read exactly as often as the
# reference policy says (--ref-retries 2: 3 attempts, DESIGN §4, README "References"): the
# fetcher hands its policy to Storage, which makes the attempts in place of its own 6, and
# nothing retries on top (the loops used to nest: 18 reads). The row then fails with
# REF_FETCH_FAILED naming the object and the attempts. The fake counts the reads it saw;
# --ref-retries 0 then reads once.
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
assert_contains err.txt "after 3 attempts"

# reads_of NAME: how many reads of the object the fake has seen.
reads_of() {
  fake_get "$(fake_url gcs)/_fake/log" log.json
  python3 -c 'import json, sys
print(sum(1 for e in json.load(open("log.json")) if e["op"] == "read" and e["object"] == sys.argv[1]))' "$1"
}
reads=$(reads_of refs/r0.png)
[ "$reads" -eq 3 ] || fail "the gs:// ref was read $reads times; --ref-retries 2 allows 3"

gcs_put bkt refs/r1.png imgs/r0.png
printf 'scene_id,prompt,variants,refs\nROW-1,product,1,gs://bkt/refs/r1.png\n' >batch1.csv
expect_exit 1 ag run batch1.csv --fetch-refs --out out1 --ledger ledger --ref-failure fail \
  --no-ref-cache --ref-retries 0
assert_contains err.txt "REF_FETCH_FAILED"
reads=$(reads_of refs/r1.png)
[ "$reads" -eq 1 ] || fail "with --ref-retries 0 the gs:// ref was read $reads times, not once"
echo "ok: a failing gs:// ref is read 3 times (the reference policy, one loop), not 6 or 18"
