#!/usr/bin/env bash
# `run --tier batch --sign-urls 7d` into gs://, submitted with --no-wait and collected by the
# same command a day later (the collecting run's wall clock moved 24 h on by an LD_PRELOAD
# layer, time_shift.c): every collected image's manifest line carries a V4 signed URL valid 7
# days from the collection, not from the submission (X-Goog-Date and signed_url_expires),
# signed with the service-account key (checked independently with openssl) and serving the
# image's bytes from the GCS fake; the --results rows, the --report thumbnails carry them as a
# synchronous run's do; `assetgen refresh` re-signs them in the bucket's manifest before they
# expire; a request sent again by --retry-failed --retry-tier standard is signed as it is made.
# A key that cannot sign fails the run (exit 78) before anything is uploaded, created or
# reserved. No key material shows up in what the runs print or write.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refresh-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
command -v cc >/dev/null || { echo "skip: no C compiler (cc) to build the clock layer"; exit 77; }
cc -shared -fPIC -O1 -o shift.so "$ASSETGEN_SOURCE_DIR/tests/e2e/time_shift.c" -ldl \
  || fail "the clock layer does not build"
# An ASan build must accept a preloaded library ahead of its runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs
start_batch_fake

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
make_sa_key key.pem sa.json
python3 -c 'import json; k = json.load(open("sa.json")); k["private_key"] = "not a key"; json.dump(k, open("bad.json", "w"))'

one_variant_batch rows.csv 6
job=bsign
cmd=(ag run rows.csv --mode live --api-base "$base" --tier batch --no-wait --daily-budget-usd 100
  --job-id "$job" --out gs://bkt/out --ledger ledger --sign-urls 7d
  --results results.csv --report report.html --events events.jsonl)

# 1. A key that cannot sign: the run stops before the batch costs anything.
GOOGLE_APPLICATION_CREDENTIALS=$T/bad.json expect_exit 78 "${cmd[@]}"
assert_contains err.txt "bad.json"
batch_counters refused.json
python3 -c 'import json; c = json.load(open("refused.json")); assert (c["uploads"], c["creates"]) == (0, 0), c' \
  || fail "a run that cannot sign uploaded or created a batch"
! grep -qs '"kind":"reserve"' ledger/*.jsonl || fail "a run that cannot sign reserved money"

# 2. Submitted: the batch is pending, nothing is collected or signed yet.
export GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json
batch_knob '{"schedule":["PENDING","SUCCEEDED"],"hold":true}'
expect_exit 75 "${cmd[@]}"
assert_contains err.txt "batch: assetgen-$job-c1 PENDING 0/6 done"
assert_eq "$(gcs_names bkt out/ | grep -c '\.png$' || true)" 0 "images of a pending batch"

# 3. Collected a day later.
batch_knob '{"hold":false}'
day=86400
collected=$(($(date +%s) + day))
LD_PRELOAD=$T/shift.so TIME_SHIFT_SECONDS=$day expect_exit 0 "${cmd[@]}"
assert_contains err.txt "6 images collected, 0 failed"
gcs_get bkt "out/$job/manifest.jsonl" manifest.jsonl
check_manifest_signed_urls manifest.jsonl 6 604800 "$collected"
python3 - <<'PY' || fail "the collected batch's manifest lines"
import json
for m in (json.loads(l) for l in open('manifest.jsonl')):
    assert m['tier'] == 'batch' and m.get('reservation'), m
    # Signed a day after the chunk's money was reserved (its submission).
    assert m['signed_url_expires'] - 7 * 86400 * 1000 - m['reservation_ts'] >= 86000 * 1000, m
PY
while read -r url sha; do
  verify_v4 "$url" pub.pem >/dev/null || fail "a signature does not verify with the key's public half: $url"
  got=$(curl -sf "$url" | sha256sum | cut -d' ' -f1) || fail "the signed URL does not serve: $url"
  assert_eq "$got" "$sha" "bytes served through the signed URL"
done <urls.txt
assert_eq "$(grep -c 'X-Goog-Signature=' results.csv)" 6 "results rows with signed URLs"
assert_eq "$(grep -o '<img[^>]*X-Goog-Signature=' report.html | wc -l | tr -d ' ')" 6 "report thumbnails with signed URLs"
! grep -q '"sign_failed"' events.jsonl || fail "sign_failed events: $(grep sign_failed events.jsonl)"
assert_no_secrets key.pem err.txt out.txt events.jsonl ledger/*.jsonl manifest.jsonl results.csv report.html

# 4. refresh finds them; 7 days and 23.5 hours after the submission (half an hour before they
# expire) it re-signs every one in the bucket's manifest, for 7 more days from then.
expect_exit 0 ag refresh results.csv --threshold 5m --ttl 7d --json
python3 -c 'import json; r = json.load(open("out.txt")); assert r["urlsFound"] == 6 and r["urlRefreshes"] == 0, r' \
  || fail "refresh of the results: $(cat out.txt)"
later=$((7 * day + 23 * 3600 + 1800))
refreshed=$(($(date +%s) + later))
LD_PRELOAD=$T/shift.so TIME_SHIFT_SECONDS=$later expect_exit 0 ag refresh "gs://bkt/out/$job/manifest.jsonl" \
  --threshold 1h --ttl 7d --json
python3 -c 'import json; r = json.load(open("out.txt")); assert r["urlsFound"] == 6 and r["urlRefreshes"] == 6, r' \
  || fail "refresh of the manifest: $(cat out.txt)"
gcs_get bkt "out/$job/manifest.jsonl" manifest2.jsonl
check_manifest_signed_urls manifest2.jsonl 6 604800 "$refreshed"
while read -r url sha; do
  verify_v4 "$url" pub.pem >/dev/null || fail "a re-signed URL does not verify: $url"
done <urls.txt

# 5. A request that failed inside a batch, sent again synchronously (--retry-failed --retry-tier
# standard): its image is signed as it is made, as the collected one was.
one_variant_batch rt.csv 2 " again"
batch_knob '{"errors":{"rt/ROW-002/1":{"code":500,"status":"INTERNAL","message":"Internal error encountered."}}}'
rt=(ag run rt.csv --mode live --api-base "$base" --tier batch --poll-every 0s --daily-budget-usd 100
  --job-id rt --out gs://bkt/out --ledger ledger --sign-urls 7d --results rt-results.csv)
start=$(date +%s)
expect_exit 1 "${rt[@]}"
expect_exit 0 "${rt[@]}" --retry-failed --retry-tier standard
gcs_get bkt out/rt/manifest.jsonl rt-manifest.jsonl
check_manifest_signed_urls rt-manifest.jsonl 2 604800 "$start"
assert_eq "$(grep -c '"tier":"batch"' rt-manifest.jsonl)" 1 "collected lines of the second job"
while read -r url _; do
  verify_v4 "$url" pub.pem >/dev/null || fail "a signature does not verify: $url"
done <urls.txt
grep -q 'ROW-002,.*X-Goog-Signature=' rt-results.csv || { cat rt-results.csv >&2; fail "the retried row's signed URL in the results"; }
echo "ok: a batch collected a day after its submission gets 6 signed URLs valid 7 days from the collection (openssl verifies, the fake serves them); results and report carry them; refresh re-signs them; a --retry-tier standard retry signs too; a key that cannot sign stops the run before anything is spent"
