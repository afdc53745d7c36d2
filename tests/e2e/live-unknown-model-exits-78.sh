#!/usr/bin/env bash
# A live run asks the API whether its model exists before it spends anything (models.get on the
# Gemini API). Proves, against a fake that knows only three models (--models):
#   1. a run with a model the fake does not know exits 78, names the model, and lists the image
#      models that models.list returned (not the text model it also lists); the fake received one
#      models.get, one models.list and no generateContent; the ledger holds no line;
#   2. a run with a known model makes one models.get and then its images (exit 0);
#   3. the dry run asks nothing (no lookup reaches the fake);
#   4. on Vertex AI, a publisher model the API does not know exits 78 the same way, listing the
#      image models of publishers.models.list (v1beta1), with no generateContent.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key \
  --models gemini-2.5-flash-image,gemini-3.1-flash-image,gemini-2.5-flash
base=$(fake_url gemini)
one_variant_batch batch.csv 3

# 1. gemini-3-pro-image has a price (and is GA in the catalog), but this API does not serve it.
GEMINI_API_KEY=e2e-key expect_exit 78 ag run batch.csv --mode live --api-base "$base" \
  --model gemini-3-pro-image
assert_contains err.txt 'model "gemini-3-pro-image" does not exist'
assert_contains err.txt 'gemini-2.5-flash-image, gemini-3.1-flash-image'
if grep -q 'gemini-2.5-flash[^-]' err.txt; then fail "the text model was listed as an image model"; fi
fake_get "$base/_fake/stats" stats.json
fake_get "$base/_fake/lookups" lookups.json
python3 - <<'PY' || fail "the unknown model was looked up, not paid for"
import glob, json
stats, lookups = json.load(open('stats.json')), json.load(open('lookups.json'))
paths = [l['path'] for l in lookups]
print(paths, stats['requests'])
assert stats['requests'] == 0, 'generateContent was called: %r' % stats
assert paths == ['/v1beta/models/gemini-3-pro-image', '/v1beta/models'], paths
assert [l['status'] for l in lookups] == [404, 200], lookups
lines = [l for f in glob.glob('ledger/*.jsonl') for l in open(f) if l.strip()]
assert not lines, lines
PY

# 2. A model the API knows: one lookup, then the images.
fake_post "$base/_fake/reset" '{}'
GEMINI_API_KEY=e2e-key expect_exit 0 ag run batch.csv --mode live --api-base "$base" \
  --model gemini-3.1-flash-image
fake_get "$base/_fake/stats" stats.json
fake_get "$base/_fake/lookups" lookups.json
python3 - <<'PY' || fail "a known model runs after one lookup"
import json
stats, lookups = json.load(open('stats.json')), json.load(open('lookups.json'))
assert [l['path'] for l in lookups] == ['/v1beta/models/gemini-3.1-flash-image'], lookups
assert stats['requests'] == 3, stats
PY

# 3. The dry run has no API to ask.
fake_post "$base/_fake/reset" '{}'
expect_exit 0 ag run batch.csv --out dry-out --ledger dry-ledger --model gemini-3-pro-image
fake_get "$base/_fake/lookups" lookups.json
python3 -c 'import json; assert json.load(open("lookups.json")) == []' || fail "the dry run asked the API"
# 4. Vertex AI: the publisher model GET, then publishers.models.list, both with the token.
start_fake oauth oauth_fake.py --issue-token ya29.meta --token-ttl 3600
fake_post "$base/_fake/reset" '{}'
(
  unset GOOGLE_APPLICATION_CREDENTIALS GEMINI_API_KEY GOOGLE_API_KEY GOOGLE_CLOUD_PROJECT
  HOME=$T GCE_METADATA_HOST="127.0.0.1:$(fake_port oauth)" expect_exit 78 ag run batch.csv --mode live \
    --api vertex --project p --location global --api-base "$base" --model gemini-3-pro-image \
    --out vx-out --ledger vx-ledger
)
assert_contains err.txt 'vertex: model "gemini-3-pro-image" does not exist'
assert_contains err.txt 'gemini-2.5-flash-image, gemini-3.1-flash-image'
if grep -q 'gemini-2.5-flash[^-]' err.txt; then fail "vertex: the text model was listed as an image model"; fi
fake_get "$base/_fake/stats" stats.json
fake_get "$base/_fake/lookups" lookups.json
python3 - <<'PY' || fail "vertex: the unknown model was looked up, not paid for"
import json
stats, lookups = json.load(open('stats.json')), json.load(open('lookups.json'))
paths = [l['path'] for l in lookups]
assert stats['requests'] == 0, 'generateContent was called: %r' % stats
assert paths == ['/v1/publishers/google/models/gemini-3-pro-image', '/v1beta1/publishers/google/models'], paths
assert [l['status'] for l in lookups] == [404, 200], lookups
PY
echo "ok: an unknown model exits 78 listing the API's image models before any paid request (Gemini API and Vertex)"
