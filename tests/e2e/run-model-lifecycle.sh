#!/usr/bin/env bash
# The model catalog's lifecycle decides before anything is spent (issue 15 item 2):
#   1. a live run with a model the catalog marks shut down (gemini-2.5-flash-image, 2026-10-02)
#      exits 78 naming the date and the replacement; the Gemini fake receives no request at all
#      (no models.get, no generateContent) and the ledger holds no line; a dry run is refused too;
#   2. a row's own model column is checked too, and the message names the row (batch.csv:3);
#   3. --allow-retired-model (and ASSETGEN_ALLOW_RETIRED_MODEL, and allow_retired_model in the
#      config) sends it anyway, with a warning;
#   4. a deprecated model (a --models catalog deprecating gemini-3-pro-image on 2099-01-01) runs
#      and warns exactly once, naming the shutdown date and the replacement, for three rows;
#   5. the default model is the catalog's default_model (gemini-3.1-flash-image): no warning.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key
base=$(fake_url gemini)
one_variant_batch batch.csv 3
no_request() {
  fake_get "$base/_fake/stats" stats.json
  fake_get "$base/_fake/lookups" lookups.json
  python3 - <<'PY' || fail "$1: the fake received a request"
import glob, json
stats, lookups = json.load(open('stats.json')), json.load(open('lookups.json'))
assert stats['requests'] == 0, stats
assert lookups == [], lookups
lines = [l for f in glob.glob('ledger/*.jsonl') for l in open(f) if l.strip()]
assert not lines, lines
PY
}

# 1. A shut-down model: refused before the first request.
GEMINI_API_KEY=e2e-key expect_exit 78 ag run batch.csv --mode live --api-base "$base" \
  --model gemini-2.5-flash-image
assert_contains err.txt '--model: model "gemini-2.5-flash-image" was shut down on 2026-10-02; use gemini-3.1-flash-image instead'
assert_contains err.txt '--allow-retired-model'
no_request "shut-down --model"
expect_exit 78 ag run batch.csv --model gemini-2.5-flash-image
assert_contains err.txt 'was shut down on 2026-10-02'
[ ! -d out ] || [ -z "$(find out -name '*.png')" ] || fail "the refused dry run made images"

# 2. A row's own model: named by its row.
cat >rows.csv <<'CSV'
scene_id,prompt,variants,model
A,a cup on a table,1,
B,a pot on a table,1,gemini-3-pro-image-preview
C,a pan on a table,1,gemini-3-pro-image-preview
CSV
GEMINI_API_KEY=e2e-key expect_exit 78 ag run rows.csv --mode live --api-base "$base"
assert_contains err.txt 'rows.csv:3: model: model "gemini-3-pro-image-preview" was shut down on 2026-06-25; use gemini-3-pro-image instead'
no_request "shut-down row model"

# 3. Sent anyway when allowed: the flag (live), the environment and the config (dry runs).
GEMINI_API_KEY=e2e-key expect_exit 0 ag run batch.csv --mode live --api-base "$base" \
  --model gemini-2.5-flash-image --allow-retired-model
assert_contains err.txt 'was shut down on 2026-10-02; use gemini-3.1-flash-image instead (sent anyway: --allow-retired-model)'
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; s=json.load(open("stats.json")); assert s["requests"]==3, s' ||
  fail "--allow-retired-model: the three images were not requested"
ASSETGEN_ALLOW_RETIRED_MODEL=1 expect_exit 0 ag run batch.csv --model gemini-2.5-flash-image \
  --out env-out --ledger env-ledger
assert_contains err.txt 'sent anyway'
printf 'allow_retired_model = true\n' >assetgen.toml
expect_exit 0 ag run batch.csv --model gemini-2.5-flash-image --out cfg-out --ledger cfg-ledger
assert_contains err.txt 'sent anyway'
rm assetgen.toml

# 4. A deprecated model warns once, naming the date and the replacement.
python3 - "$ASSETGEN_SOURCE_DIR/core/budget/models.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for m in c['models']:
    if m['id'] == 'gemini-3-pro-image':
        m['lifecycle'].update({'state': 'deprecated', 'date': '2099-01-01',
                               'replacement': 'gemini-3.1-flash-image'})
json.dump(c, open('deprecating.json', 'w'), indent=1)
PY
fake_post "$base/_fake/reset" '{}'
GEMINI_API_KEY=e2e-key expect_exit 0 ag run batch.csv --mode live --api-base "$base" \
  --models deprecating.json --model gemini-3-pro-image --out dep-out --ledger dep-ledger
assert_eq "$(grep -c 'is deprecated' err.txt)" 1 "deprecation warnings for three rows"
assert_contains err.txt 'model "gemini-3-pro-image" is deprecated: Google shuts it down on 2099-01-01; use gemini-3.1-flash-image instead'
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; s=json.load(open("stats.json")); assert s["requests"]==3, s' ||
  fail "the deprecated model's images were not requested"

# 5. The default model: the catalog's, current, no warning.
expect_exit 0 ag run batch.csv --out def-out --ledger def-ledger --json
if grep -qi 'warn' err.txt; then cat err.txt >&2; fail "the default model warned"; fi
python3 -c 'import json; s=json.load(open("out.txt")); assert s["model"]=="gemini-3.1-flash-image", s["model"]' ||
  fail "the default model is not the catalog's default_model"
echo "ok: a shut-down model is refused before any request, a deprecated one warns once"
