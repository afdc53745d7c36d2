#!/usr/bin/env bash
# `run --api vertex --tier batch --sign-urls 1h` into gs://, with no key file: the metadata
# server's account signs through IAM signBlob (the OAuth fake holding an RSA key). Every
# collected image's manifest line carries a V4 signed URL valid an hour from the collection
# (openssl verifies it with the key's public half) and its expiry; the --results rows and the
# --report thumbnails carry the URLs; `assetgen refresh` finds them all.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refresh-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/vertex-batch-common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
vertex_oauth_args=(--signing-key "$T/key.pem")
start_vertex_batch_fakes
export ASSETGEN_IAM_ENDPOINT
ASSETGEN_IAM_ENDPOINT=$(fake_url oauth)

one_variant_batch batch.csv 5
start=$(date +%s)
expect_exit 0 ag run batch.csv "${vflags[@]}" --tier batch --poll-every 0s --out gs://bkt/imgs \
  --ledger ledger --sign-urls 1h --results results.csv --report report.html
assert_contains err.txt "5 images collected, 0 failed"
assert_contains err.txt "signed URLs: IAM signBlob"
job=$(grep -o 'job-[0-9a-f]*' err.txt | head -1)
gcs_get bkt "imgs/$job/manifest.jsonl" manifest.jsonl
check_manifest_signed_urls manifest.jsonl 5 3600 "$start"
grep -q '"tier":"batch"' manifest.jsonl || fail "the manifest's lines are not the batch's"
while read -r url _; do
  verify_v4 "$url" pub.pem >/dev/null || fail "a signature does not verify with the key's public half: $url"
done <urls.txt
assert_eq "$(grep -c 'X-Goog-Signature=' results.csv)" 5 "results rows with signed URLs"
assert_eq "$(grep -o '<img[^>]*X-Goog-Signature=' report.html | wc -l | tr -d ' ')" 5 "report thumbnails with signed URLs"
assert_no_secrets key.pem err.txt out.txt ledger/*.jsonl manifest.jsonl results.csv report.html
expect_exit 0 ag refresh results.csv --threshold 5m --ttl 1h --json
python3 -c 'import json; r = json.load(open("out.txt")); assert r["urlsFound"] == 5 and r["urlRefreshes"] == 0, r' \
  || fail "refresh: $(cat out.txt)"
echo "ok: a Vertex batch's 5 images get URLs signed through signBlob at collection (openssl verifies); results, report and refresh see them"
