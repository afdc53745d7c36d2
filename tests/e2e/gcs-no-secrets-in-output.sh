#!/usr/bin/env bash
# No credential, token or signature reaches logs, events or error messages. A run into gs://
# with real authentication (not the emulator): the access token comes from the metadata server
# (GCE_METADATA_HOST, the OAuth fake), Cloud Storage (ASSETGEN_GCS_ENDPOINT, the GCS fake)
# accepts only that token, signed URLs come from IAM signBlob, and 10% of storage calls fail
# with 503 so the retry path logs too. Then the same with a token the bucket refuses, so the
# error path speaks. Everything the runs printed or logged is searched for the token, for
# signatures and for key material. (Manifests and results carry signed URLs by design.)
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
unset GOOGLE_APPLICATION_CREDENTIALS STORAGE_EMULATOR_HOST CLOUD_STORAGE_EMULATOR_ENDPOINT ASSETGEN_GCS_ENDPOINT
export HOME=$T ASSETGEN_SPOOL_DIR=$T/spool

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null
token=ya29.s3cr3t-e2e-token
start_fake oauth oauth_fake.py --issue-token "$token" --token-ttl 3600 --signing-key "$T/key.pem" \
  --client-email runner@p.iam.gserviceaccount.com
start_fake gcs gcs_fake.py --require-bearer "$token-1"
fake_post "$(fake_url gcs)/_fake/faults" '{"rules":[{"fault":"503","rate":0.1}],"seed":5}'
export GCE_METADATA_HOST="127.0.0.1:$(fake_port oauth)" ASSETGEN_IAM_ENDPOINT="$(fake_url oauth)"
export ASSETGEN_GCS_ENDPOINT="$(fake_url gcs)"

ag seed --rows 20 >batch.csv 2>/dev/null
expect_exit 0 ag run batch.csv --out gs://bkt/out --ledger gs://bkt/ledger --sign-urls 1h \
  --events events.jsonl --results results.csv
cp err.txt run-err.txt
job=$(grep -o 'job-[0-9a-f]*' err.txt | head -1)
gcs_stats=$(fake_get "$(fake_url gcs)/_fake/stats")
python3 -c 'import json, sys; s=json.loads(sys.argv[1]); assert s["by_fault"].get("503", 0) > 0, s' "$gcs_stats" \
  || fail "no 503 was injected: $gcs_stats"
grep -q 'X-Goog-Signature=' results.csv || fail "the results have no signed URLs (so the test would prove nothing)"

# The bucket refuses the token now: the run stops with an auth error that names no secret.
fake_post "$(fake_url gcs)/_fake/faults" '{"rules":[{"fault":"401","rate":1.0}],"seed":5}'
set +e; "$ASSETGEN" run batch.csv --out gs://bkt/out2 --ledger gs://bkt/ledger --sign-urls 1h \
  --events events2.jsonl >out2.txt 2>err2.txt; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "the run with a refused token succeeded"
grep -qi "401\|auth\|permission\|credential" err2.txt || { cat err2.txt >&2; fail "the refusal is not explained"; }

signatures=$(grep -o 'X-Goog-Signature=[0-9a-f]*' results.csv | cut -d= -f2 | sort -u)
key_line=$(sed -n 2p key.pem)
for f in run-err.txt out.txt events.jsonl err2.txt out2.txt events2.jsonl ; do
  [ -f "$f" ] || continue
  grep -qF -- "$token" "$f" && fail "the access token is in $f"
  grep -qF -- "$key_line" "$f" && fail "key material is in $f"
  grep -q "PRIVATE KEY" "$f" && fail "a private key is in $f"
  for sig in $signatures; do grep -qF -- "$sig" "$f" && fail "a URL signature is in $f"; done
done
echo "ok: tokens, signatures and key material stay out of logs, events and error messages"
