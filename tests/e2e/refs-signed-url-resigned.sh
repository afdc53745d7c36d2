#!/usr/bin/env bash
# A reference given as a V4 signed URL that expires within 5 minutes, or has expired already,
# is signed again (with the run's own credentials) before it is fetched, so the row gets its
# reference instead of a 400 ExpiredToken. The loopback GCS fake serves path-style signed GETs
# and refuses expired ones, as Cloud Storage does; a sanity check shows it really refuses.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refresh-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
start_gcs

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null
make_sa_key key.pem sa.json
export GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json
make_pngs imgs r0.png:ref-0 r1.png:ref-1
gcs_put bkt refs/r0.png imgs/r0.png
gcs_put bkt refs/r1.png imgs/r1.png

at() { python3 -c 'import sys, time; print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - float(sys.argv[1]))))' "$1"; }
# Expires in about 2 minutes: signed 7 days minus 2 minutes ago.
expect_exit 0 ag refresh --sign gs://bkt/refs/r0.png --ttl 7d --at "$(at $((7 * 86400 - 120)))"
soon=$(cat out.txt)
# Expired an hour ago.
expect_exit 0 ag refresh --sign gs://bkt/refs/r1.png --ttl 1h --at "$(at 7200)"
gone=$(cat out.txt)
# The fake refuses the expired one as it is.
python3 - "$gone" <<'PY' || fail "the fake served an expired signed URL"
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=10)
    sys.exit(1)
except urllib.error.HTTPError as e:
    assert e.code == 400 and b"ExpiredToken" in e.read()
PY
python3 - "$soon" "$gone" <<'PY'
import csv, sys
with open('batch.csv', 'w', newline='') as f:
    w = csv.writer(f, lineterminator='\n')
    w.writerow(['scene_id', 'prompt', 'variants', 'refs'])
    w.writerow(['SOON', 'product a', 1, sys.argv[1]])
    w.writerow(['GONE', 'product b', 1, sys.argv[2]])
PY
expect_exit 0 ag run batch.csv --fetch-refs --out out --ledger ledger --ref-failure fail --allow-private-refs --no-ref-cache --json
python3 -c 'import json; s=json.load(open("out.txt")); r=s["refs"]
assert s["imagesGenerated"]==2 and s["errors"]==0, s
assert r["fetched"]==2 and r["failed"]==0, r' || fail "summary: $(cat out.txt)"
stats=$(fake_get "$(fake_url gcs)/_fake/stats")
python3 -c 'import json, sys; s=json.loads(sys.argv[1]); assert s["signed_gets"]==3 and s["signed_expired"]==1, s' "$stats" \
  || fail "fake stats: $stats"
echo "ok: a signed-URL ref expiring in 2 minutes and one expired an hour ago were signed again and fetched"
