#!/usr/bin/env bash
# `assetgen refresh --sign gs://b/o --ttl T --at TIME` is reproducible and right. Proves:
#   1. with Google's conformance key (GOOGLE_APPLICATION_CREDENTIALS), signing twice gives the same
#      URL, and it is byte for byte the "Simple GET" vector of tests/data/gcs; a fresh
#      openssl key's URLs verify against its public key (canonical request rebuilt independently),
#      also for PUT with a signed Content-Type header;
#   2. with no key file but a metadata server (GCE_METADATA_HOST) and IAM signBlob
#      (ASSETGEN_IAM_ENDPOINT, both the OAuth fake holding the same key), the same URL comes out,
#      signed remotely with the metadata server's token and email;
#   3. a TTL over 7 days exits 2 and says why; no key file and no metadata server exits 78 and
#      says to set GOOGLE_APPLICATION_CREDENTIALS;
#   4. no private key material or token text appears in any output.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refresh-common.inc"

vectors=$ASSETGEN_SOURCE_DIR/tests/data/gcs
[ -f "$vectors/v4_signatures.json" ] || fail "conformance vectors not found at $vectors"
python3 - "$vectors" <<'PY'
import json, sys
d = sys.argv[1]
case = json.load(open(d + "/v4_signatures.json"))["signingV4Tests"][0]
assert case["description"] == "Simple GET", case["description"]
open("expected.txt", "w").write(case["expectedUrl"] + "\n")
key = json.load(open(d + "/test_service_account.not-a-test.json"))
open("vector.pem", "w").write(key["private_key"])
open("vector-email.txt", "w").write(key["client_email"] + "\n")
PY
openssl pkey -in vector.pem -pubout -out vector-pub.pem
read -r expected <expected.txt
read -r vector_email <vector-email.txt

# 1. The conformance key, twice; then a fresh key.
export GOOGLE_APPLICATION_CREDENTIALS=$vectors/test_service_account.not-a-test.json
simple=(refresh --sign gs://test-bucket/test-object --ttl 10s --at 2019-02-01T09:00:00Z)
expect_exit 0 ag "${simple[@]}"
cp out.txt sign-1.txt; cp err.txt sign-1-err.txt
expect_exit 0 ag "${simple[@]}"
cmp -s out.txt sign-1.txt || fail "two signings with the same --at differ"
assert_eq "$(cat out.txt)" "$expected" "URL vs the Simple GET conformance vector"
assert_contains err.txt "$vector_email"
IFS=$'\t' read -r object date expires < <(verify_v4 "$(cat out.txt)" vector-pub.pem)
assert_eq "$object $date $expires" "test-bucket/test-object 20190201T090000Z 10" "verified parts"
expect_exit 0 ag "${simple[@]}" --json
python3 - "$expected" <<'PY' || fail "--json"
import json, sys
o = json.load(open("out.txt"))
assert o == {"url": sys.argv[1], "method": "GET", "location": "gs://test-bucket/test-object",
             "signedAt": "2019-02-01T09:00:00.000Z", "expires": "2019-02-01T09:00:10.000Z"}, o
PY

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
make_sa_key key.pem sa.json
GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json expect_exit 0 ag refresh --sign "gs://b-1/a dir/ü.png" --ttl 1h \
  --at 2024-03-05T06:07:08Z
cp out.txt fresh.txt; cp err.txt fresh-err.txt
IFS=$'\t' read -r object date expires < <(verify_v4 "$(cat fresh.txt)" pub.pem)
assert_eq "$object $date $expires" "b-1/a dir/ü.png 20240305T060708Z 3600" "fresh key, odd object name"
GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json expect_exit 0 ag refresh --sign gs://b-1/up.png --ttl 15m \
  --method put --header "Content-Type: image/png"
cp out.txt put.txt
verify_v4 "$(cat put.txt)" pub.pem PUT "Content-Type:image/png" >/dev/null || fail "PUT URL"

# 2. No key file: the metadata server's account signs through IAM signBlob.
start_fake oauth oauth_fake.py --client-email "$vector_email" --signing-key "$T/vector.pem" \
  --issue-token ya29.meta --key-id vector-key
unset GOOGLE_APPLICATION_CREDENTIALS
GCE_METADATA_HOST="127.0.0.1:$(fake_port oauth)" ASSETGEN_IAM_ENDPOINT="$(fake_url oauth)" \
  expect_exit 0 ag "${simple[@]}"
cp out.txt iam.txt; cp err.txt iam-err.txt
assert_eq "$(cat iam.txt)" "$expected" "URL signed through IAM signBlob"
assert_contains iam-err.txt "IAM signBlob as $vector_email"
fake_get "$(fake_url oauth)/_fake/log" oauth-log.json
python3 - "$vector_email" <<'PY' || fail "signBlob log"
import json, sys
log = json.load(open("oauth-log.json"))
email = [e for e in log if e["endpoint"] == "metadata" and e["path"].endswith("/email")]
token = [e for e in log if e["endpoint"] == "metadata" and e["path"].endswith("/token")]
signs = [e for e in log if e["endpoint"] == "signBlob"]
assert len(email) == 1 and len(token) == 1 and all(e["flavor"] == "Google" for e in email + token), log
assert len(signs) == 1 and signs[0]["status"] == 200 and signs[0]["email"] == sys.argv[1], signs
assert signs[0]["bearer"] == token[0]["token"], (signs[0]["bearer"], token[0]["token"])
PY

# 3. Refusals.
GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json expect_exit 2 ag refresh --sign gs://b-1/o --ttl 8d
assert_contains err.txt "longer than 7d"
cp err.txt ttl-err.txt
GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json expect_exit 2 ag refresh --sign gs://b-1/o --method PATCH
assert_contains err.txt '--method: "PATCH" is not one of GET, HEAD, PUT, POST, DELETE'
GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json expect_exit 2 ag refresh --sign gs://b-1/o --at yesterday
GCE_METADATA_HOST=127.0.0.1:1 expect_exit 78 ag refresh --sign gs://b-1/o
assert_contains err.txt "GOOGLE_APPLICATION_CREDENTIALS"
cp err.txt none-err.txt

# 4. Secrets.
assert_no_secrets vector.pem sign-1.txt sign-1-err.txt iam.txt iam-err.txt ttl-err.txt none-err.txt
assert_no_secrets key.pem fresh.txt fresh-err.txt put.txt
echo "ok: --sign --at is reproducible, equals the conformance vector, verifies with openssl, and IAM signBlob gives the same URL"
