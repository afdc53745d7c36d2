#!/usr/bin/env bash
# `run --sign-urls 7d` into gs://: every manifest line carries a V4 signed URL of its image
# (valid 7 days from the run, signed with the service-account key, checked independently with
# openssl) and its expiry; the results file lists the signed URLs; the HTML report uses them
# for thumbnails; `assetgen refresh` recognises every one of them. The key never shows up in
# what the run prints or writes.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refresh-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
start_gcs

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
make_sa_key key.pem sa.json
export GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json

ag seed --rows 10 >batch.csv 2>/dev/null  # 19 images
expect_exit 0 ag run batch.csv --out gs://bkt/out --ledger ledger --sign-urls 7d \
  --results results.csv --report report.html --events events.jsonl
job=$(grep -o 'job-[0-9a-f]*' err.txt | head -1)
gcs_get bkt "out/$job/manifest.jsonl" manifest.jsonl
now=$(date +%s)
python3 - "$now" <<'PY' || fail "signed URLs in the manifest"
import json, sys
now = int(sys.argv[1])
man = [json.loads(l) for l in open('manifest.jsonl')]
assert len(man) == 19, len(man)
for m in man:
    u = m['signed_url']
    assert 'X-Goog-Algorithm=GOOG4-RSA-SHA256' in u and 'X-Goog-Expires=604800' in u, u
    obj = m['uri'][len('gs://bkt/'):]
    assert '/bkt/' + obj.replace('/', '/') in u, (u, obj)
    assert abs(m['signed_url_expires'] / 1000 - (now + 7 * 86400)) < 300, m['signed_url_expires']
open('one-url.txt', 'w').write(man[0]['signed_url'])
PY
verify_v4 "$(cat one-url.txt)" pub.pem >/dev/null || fail "the signature does not verify with the key's public half"
assert_eq "$(grep -c 'X-Goog-Signature=' results.csv)" 10 "results rows with signed URLs"
assert_eq "$(grep -o '<img[^>]*X-Goog-Signature=' report.html | wc -l | tr -d ' ')" 19 "report thumbnails with signed URLs"
# refresh sees 19 signed URLs, none expiring within 5 minutes: nothing to do.
expect_exit 0 ag refresh results.csv --threshold 5m --ttl 7d --json
python3 -c 'import json; r=json.load(open("out.txt")); assert r["urlsFound"]==19 and r["urlRefreshes"]==0, r' \
  || fail "refresh: $(cat out.txt)"
# No secret material anywhere the run wrote or printed.
key_body=$(sed -n 2p key.pem)
for f in err.txt events.jsonl ledger/*.jsonl manifest.jsonl results.csv report.html; do
  if grep -qF -- "$key_body" "$f" || grep -q "PRIVATE KEY" "$f"; then fail "key material in $f"; fi
done
echo "ok: --sign-urls 7d signs all 19 images (openssl verifies), results and report carry them, no key material leaks"
