#!/usr/bin/env bash
# Sizes are checked before money (issue 15 item 3): an imageSize or aspect ratio the row's model
# does not offer (the model catalog's sizes and aspect_ratios) fails validation with exit 65,
# naming the row (file:line) and what the model offers; the Gemini fake receives nothing and the
# ledger holds no line.
#   1. --image-size 512 with gemini-3-pro-image (1K, 2K, 4K): every row using that model is named;
#      a row whose own model offers 512 (gemini-3.1-flash-image) is not;
#   2. a row's aspect_ratio its model does not offer (a --models catalog where gemini-3-pro-image
#      offers 1:1 and 16:9 only): that row named, the others run in the next step once it is fixed;
#   3. the same sizes the model offers run (exit 0).
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key
base=$(fake_url gemini)
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

cat >batch.csv <<'CSV'
scene_id,prompt,variants,model,aspect_ratio
A,a cup on a table,1,,16:9
B,a pot on a table,1,gemini-3.1-flash-image,16:9
C,a pan on a table,1,,4:3
CSV

# 1. --image-size the model does not offer.
GEMINI_API_KEY=e2e-key expect_exit 65 ag run batch.csv --mode live --api-base "$base" \
  --model gemini-3-pro-image --image-size 512
assert_contains err.txt 'batch.csv:2: --image-size: "512" is not offered by gemini-3-pro-image (it offers 1K, 2K, 4K)'
assert_contains err.txt 'batch.csv:4: --image-size: "512" is not offered by gemini-3-pro-image'
if grep -q 'batch.csv:3:' err.txt; then cat err.txt >&2; fail "row B's model offers 512 but it was named"; fi
assert_contains err.txt 'batch.csv: 2 problem(s); nothing was run and nothing was spent'
no_request "--image-size 512"

# 2. An aspect ratio the model does not offer.
python3 - "$ASSETGEN_SOURCE_DIR/core/budget/models.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for m in c['models']:
    if m['id'] == 'gemini-3-pro-image':
        m['sizes']['aspect_ratios'] = ['1:1', '16:9']
json.dump(c, open('narrow.json', 'w'), indent=1)
PY
GEMINI_API_KEY=e2e-key expect_exit 65 ag run batch.csv --mode live --api-base "$base" \
  --models narrow.json --model gemini-3-pro-image
assert_contains err.txt 'batch.csv:4: aspect_ratio: "4:3" is not offered by gemini-3-pro-image (it offers 1:1, 16:9)'
assert_eq "$(grep -c 'is not offered' err.txt)" 1 "rows named for their aspect ratio"
no_request "aspect ratio 4:3"
expect_exit 65 ag run batch.csv --models narrow.json --model gemini-3-pro-image
assert_contains err.txt 'batch.csv:4: aspect_ratio: "4:3" is not offered'

# 3. Sizes the models offer: the run goes ahead.
GEMINI_API_KEY=e2e-key expect_exit 0 ag run batch.csv --mode live --api-base "$base" \
  --model gemini-3-pro-image --image-size 2K
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; s=json.load(open("stats.json")); assert s["requests"]==3, s' ||
  fail "offered sizes: the three images were not requested"
# 4. The built-in catalog's tall and wide ratios (1:4, 4:1, 1:8, 8:1): gemini-3.1-flash-image
#    offers them, gemini-3-pro-image does not; the row is named only for the model without them.
cat >tall.csv <<'CSV'
scene_id,prompt,variants,model,aspect_ratio
T1,a tall banner,1,gemini-3.1-flash-image,1:8
T2,a wide banner,1,gemini-3-pro-image,4:1
CSV
expect_exit 65 ag run tall.csv --out tall-out --ledger tall-ledger
assert_contains err.txt 'tall.csv:3: aspect_ratio: "4:1" is not offered by gemini-3-pro-image'
if grep -q 'tall.csv:2:' err.txt; then cat err.txt >&2; fail "1:8 is offered by gemini-3.1-flash-image but its row was named"; fi
grep -v '^T2,' tall.csv >tall-ok.csv
expect_exit 0 ag run tall-ok.csv --out tall-out --ledger tall-ledger
echo "ok: a size or aspect ratio the model does not offer is refused before any request"
