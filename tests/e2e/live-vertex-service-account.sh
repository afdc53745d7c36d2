#!/usr/bin/env bash
# Vertex AI with a service-account key (GOOGLE_APPLICATION_CREDENTIALS): the key's token_uri
# points at the OAuth fake, which verifies each JWT-bearer assertion's RS256 signature with the
# public half of a key made fresh for this run (openssl), and its aud, iss, scope, kid and
# exp - iat = 3600. The Gemini fake accepts only the tokens the OAuth fake issues.
#   1. 199 images with --api vertex --project p --location us-central1: exit 0; exactly one
#      token issued (the token is cached and reused) from one verified assertion; every request
#      went to the Vertex path of project p in us-central1 and carried that token.
#   2. Tokens that live 4 s while the run lasts about 8 s: the client refreshes before expiry
#      (at the latest half a lifetime before it), so several tokens are issued, and no request
#      carried a token that had expired by the time it arrived.
#   3. A key whose private half does not match what the token endpoint knows: the endpoint
#      refuses the assertion ("Invalid JWT Signature.") and the run ends with exit 77 without a
#      single model request; no private key or token text is written anywhere.
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.pem 2>/dev/null
email=assetgen-e2e@p.iam.gserviceaccount.com
scope=https://www.googleapis.com/auth/cloud-platform
# make_key PEM TOKEN_URI OUT: a service-account key file as Google's console writes it.
make_key() { python3 - "$@" <<'PY'
import json, sys
pem, uri, out = sys.argv[1:4]
json.dump({"type": "service_account", "project_id": "p", "private_key_id": "e2e-key-id-1",
           "private_key": open(pem).read(), "client_email": "assetgen-e2e@p.iam.gserviceaccount.com",
           "client_id": "100000000000000000001", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
           "token_uri": uri, "universe_domain": "googleapis.com"}, open(out, "w"), indent=2)
PY
}
bearers() { for i in $(seq 1 "$2"); do printf -- '--bearer\n%s-%d\n' "$1" "$i"; done; }
ag seed --refs-every 0 >batch.csv 2>/dev/null   # 100 rows, 199 images

# Checks a run against the fakes' logs: every request on the Vertex path with a bearer the
# OAuth fake issued, unexpired when it arrived.
check_tokens() { python3 - "$1" "$2" <<'PY'
import json, sys
oauth, log = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
issued = {t['token']: t for t in oauth['tokens']}
path = '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-3.1-flash-image:generateContent'  # the default model
for e in log:
    assert e['api'] == 'vertex' and e['path'] == path, e['path']
    t = issued.get(e['bearer'])
    assert t, 'request carried a token the OAuth fake never issued: %r' % e['bearer']
    assert t['source'] == 'token', t
    assert t['issued_ms'] <= e['ts_ms'] < t['expires_ms'], \
        'request at %.0f used %s, valid %.0f..%.0f' % (e['ts_ms'], t['token'], t['issued_ms'], t['expires_ms'])
used = sorted({e['bearer'] for e in log}, key=lambda b: int(b.rsplit('-', 1)[1]))
print('%d requests; tokens issued %d, assertions verified %d, refused %d; used %s' %
      (len(log), oauth['tokens_issued'], oauth['assertions_verified'], oauth['refused'], used))
PY
}

# 1. One token for the whole run.
start_fake oauth oauth_fake.py --public-key pub.pem --issue-token ya29.e2e --token-ttl 3600 \
  --client-email "$email" --key-id e2e-key-id-1 --scope "$scope"
mapfile -t b < <(bearers ya29.e2e 40)
start_fake gemini gemini_fake.py "${b[@]}" --latency-ms 20
make_key key.pem "$(fake_url oauth)/token" sa.json
export GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json
unset GEMINI_API_KEY GOOGLE_API_KEY GCE_METADATA_HOST GOOGLE_CLOUD_PROJECT STORAGE_EMULATOR_HOST CLOUD_STORAGE_EMULATOR_ENDPOINT
expect_exit 0 ag run batch.csv --mode live --api vertex --project p --location us-central1 \
  --api-base "$(fake_url gemini)" --concurrency 8 --events events.jsonl --results results.csv --json
python3 -c 'import json; s = json.load(open("out.txt")); assert s["imagesGenerated"] == 199 and s["errors"] == 0, s' ||
  fail "199 images"
fake_get "$(fake_url oauth)/_fake/stats" oauth1.json
fake_get "$(fake_url gemini)/_fake/log" log1.json
check_tokens oauth1.json log1.json || fail "tokens of part 1"
python3 -c 'import json; s = json.load(open("oauth1.json"))
assert s["tokens_issued"] == 1 and s["assertions_verified"] == 1 and s["refused"] == 0, s
assert s["metadata_requests"] == 0, s' || fail "exactly one token, from one verified assertion"
for secret in ya29.e2e-1 "$(sed -n 2p key.pem)"; do
  if grep -rlF -- "$secret" out.txt err.txt events.jsonl results.csv out ledger; then
    fail "a token or the private key appears in the files above"
  fi
done
echo "part 1: 199 images, one token"

# 2. Short-lived tokens are refreshed before they expire.
start_fake oauth2 oauth_fake.py --public-key pub.pem --issue-token ya29.short --token-ttl 4 \
  --client-email "$email" --key-id e2e-key-id-1 --scope "$scope"
mapfile -t b < <(bearers ya29.short 40)
start_fake gemini2 gemini_fake.py "${b[@]}" --latency-ms 150
make_key key.pem "$(fake_url oauth2)/token" sa2.json
rm -rf out ledger
t0=$(date +%s.%N)
GOOGLE_APPLICATION_CREDENTIALS=$T/sa2.json expect_exit 0 ag run batch.csv --mode live --api vertex \
  --project p --location us-central1 --api-base "$(fake_url gemini2)" --concurrency 4 --json
echo "part 2 run took $(elapsed_since "$t0") s"
fake_get "$(fake_url oauth2)/_fake/stats" oauth2.json
fake_get "$(fake_url gemini2)/_fake/log" log2.json
check_tokens oauth2.json log2.json || fail "tokens of part 2"
python3 -c 'import json; s = json.load(open("oauth2.json")); n = s["tokens_issued"]
assert s["refused"] == 0, s
assert n >= 3, "%d token(s) issued over a run of about 8 s with 4 s tokens" % n' || fail "refresh"
echo "part 2: short-lived tokens refreshed in time"

# 3. A key the token endpoint cannot verify.
fake_post "$(fake_url oauth)/_fake/reset" '{}'
fake_post "$(fake_url gemini)/_fake/reset" '{}'
make_key other.pem "$(fake_url oauth)/token" bad.json
rm -rf out ledger events.jsonl results.csv
GOOGLE_APPLICATION_CREDENTIALS=$T/bad.json expect_exit 77 ag run batch.csv --mode live --api vertex \
  --project p --location us-central1 --api-base "$(fake_url gemini)" --concurrency 4 --events events.jsonl
cat err.txt | tail -2
fake_get "$(fake_url oauth)/_fake/stats" oauth3.json
python3 -c 'import json; s = json.load(open("oauth3.json"))
assert s["tokens_issued"] == 0 and s["refused"] >= 1, s' || fail "the endpoint should refuse the signature"
fake_get "$(fake_url oauth)/_fake/log" oauth3-log.json
assert_contains oauth3-log.json "Invalid JWT Signature"
assert_eq "$(fake_get "$(fake_url gemini)/_fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')" 0 \
  "model requests without a token"
if grep -rlF -- "$(sed -n 2p other.pem)" out.txt err.txt events.jsonl; then fail "the private key was written"; fi
echo "ok: service-account key → verified JWT-bearer grant, one cached token for 199 images, refreshed before expiry; a bad signature → exit 77"
