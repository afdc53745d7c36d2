#!/usr/bin/env bash
# Vertex AI on Google Cloud without a key file (Cloud Build, Cloud Run): with no
# GOOGLE_APPLICATION_CREDENTIALS, the access token comes from the metadata server, whose address
# GCE_METADATA_HOST overrides (here the OAuth fake's metadata endpoint). Proves: the run succeeds
# (exit 0, every image made); the token came from the metadata endpoint, asked with
# Metadata-Flavor: Google (the fake answers 403 without it; no request was refused), once for the
# whole run; every model request carried that token. A sanity check first shows the fake really
# refuses a request without the header.
source "$(dirname "$0")/common.inc"

start_fake oauth oauth_fake.py --issue-token ya29.meta --token-ttl 3600
start_fake gemini gemini_fake.py --bearer ya29.meta-1 --bearer ya29.meta-2 --latency-ms 20
meta="127.0.0.1:$(fake_port oauth)"

# The fake metadata server insists on the header, as the real one does.
python3 - "http://$meta/computeMetadata/v1/instance/service-accounts/default/token" <<'PY' || fail "fake without header"
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=10)
    raise SystemExit('answered without Metadata-Flavor')
except urllib.error.HTTPError as e:
    assert e.code == 403, e.code
PY
fake_post "$(fake_url oauth)/_fake/reset" '{}'

ag seed --rows 30 --refs-every 0 >batch.csv 2>/dev/null   # 60 images
unset GOOGLE_APPLICATION_CREDENTIALS GEMINI_API_KEY GOOGLE_API_KEY GOOGLE_CLOUD_PROJECT STORAGE_EMULATOR_HOST CLOUD_STORAGE_EMULATOR_ENDPOINT
# HOME elsewhere, so that no gcloud application-default credentials of the machine can be used.
HOME=$T GCE_METADATA_HOST=$meta expect_exit 0 ag run batch.csv --mode live --api vertex --project p \
  --location global --api-base "$(fake_url gemini)" --concurrency 4 --json
grep -i "metadata" err.txt || fail "stderr does not say the credentials come from the metadata server"
fake_get "$(fake_url oauth)/_fake/stats" oauth.json
fake_get "$(fake_url oauth)/_fake/log" oauth-log.json
fake_get "$(fake_url gemini)/_fake/log" log.json
python3 - <<'PY' || fail "metadata-server tokens"
import json
s = json.load(open('out.txt'))
oauth, olog, log = json.load(open('oauth.json')), json.load(open('oauth-log.json')), json.load(open('log.json'))
assert s['imagesGenerated'] == 60 and s['errors'] == 0, s
print('metadata: %d request(s), %d token(s), %d refused; token endpoint requests: %d' %
      (oauth['metadata_requests'], oauth['metadata_tokens'], oauth['metadata_refused'], oauth['token_requests']))
assert oauth['metadata_tokens'] == 1 and oauth['metadata_refused'] == 0 and oauth['token_requests'] == 0, oauth
assert all(e['flavor'] == 'Google' for e in olog), olog
token_reqs = [e for e in olog if e['path'].endswith('/service-accounts/default/token')]
assert len(token_reqs) == 1, olog
assert len(log) == 60 and all(e['api'] == 'vertex' and e['bearer'] == 'ya29.meta-1' for e in log), \
    {(e['api'], e['bearer']) for e in log}
assert all('/projects/p/locations/global/' in e['path'] for e in log), log[0]['path']
PY
echo "ok: with GCE_METADATA_HOST and no key file, one metadata-server token (Metadata-Flavor: Google) served the whole run"
