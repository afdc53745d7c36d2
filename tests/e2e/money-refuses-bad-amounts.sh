#!/usr/bin/env bash
# Prices, limits and costs are read strictly (issue 13, "money as checked integers"):
# --price-per-image 1e13 / -1 / nan / 0.0000001, --daily-budget-usd -5 / 2000000 and a --prices
# file with 1e16 per million tokens are refused before anything runs, naming the flag (or
# file:line) and the fix; prices above the sane ceilings pass only with --i-mean-it (or
# ASSETGEN_I_MEAN_IT=1). A ledger line with "cost": -100 counts as $100 spent (never a credit),
# so a $10 day refuses to start. Fails on a build that accepts any of these, or whose bad flag
# value exits 0.
source "$(dirname "$0")/common.inc"

ag seed --rows 5 --refs-every 0 >b.csv 2>/dev/null

# A bad flag value is a usage error (2; 78 until every flag-value error maps to 2) and spends nothing.
refused() {
  local flag=$1 value=$2 message=$3
  set +e; ag run b.csv "$flag" "$value" >out.txt 2>err.txt; local rc=$?; set -e
  [ "$rc" -eq 2 ] || [ "$rc" -eq 78 ] || { cat err.txt >&2; fail "$flag $value exited $rc, expected 2"; }
  assert_contains err.txt "$flag: \"$value\" $message"
  [ ! -e ledger ] && [ ! -e out ] || fail "$flag $value: something was written"
}
refused --price-per-image 1e13 "is not a dollar amount"
refused --price-per-image -1 "is negative"
refused --price-per-image nan "is not a dollar amount"
refused --price-per-image 0.0000001 "has more than 6 decimals"
refused --price-per-image 10.5 "is above \$10.000000, the sane ceiling for a price per image"
assert_contains err.txt "--i-mean-it"
refused --daily-budget-usd -5 "is negative"
refused --daily-budget-usd 2000000 "is above \$1000000.000000, the sane ceiling for a daily limit"
refused --daily-budget-usd 1e9 "is not a dollar amount"

# Confirmed, a high price is taken as it is: $10.50 an image does not fit a $10 day (exit 3).
expect_exit 3 ag run b.csv --price-per-image 10.5 --i-mean-it
assert_contains err.txt "Nothing was run"
ASSETGEN_I_MEAN_IT=1 expect_exit 3 ag run b.csv --price-per-image 10.5
assert_contains err.txt "Nothing was run"

# A pricing file with an absurd price names the file, the line and the key.
cat >prices.json <<'JSON'
{"models": {
  "gemini-2.5-flash-image": {
    "input_per_mtok": 0.30,
    "output_image_per_mtok": 1e16,
    "per_image": {"": 0.039}
  }
}}
JSON
expect_exit 65 ag run b.csv --prices prices.json
assert_contains err.txt "prices.json:4: models.gemini-2.5-flash-image.output_image_per_mtok: \"1e+16\" is above"
[ ! -e ledger ] || fail "a bad pricing file wrote a ledger"

# A negative cost in today's ledger is counted as its magnitude: $100 spent, a $10 day is over.
mkdir ledger
python3 - <<'PY'
import json, time
ts = int(time.time() * 1000)
day = time.strftime('%Y-%m-%d', time.gmtime(ts / 1000))
line = {"ts": ts, "userId": "e2e", "jobId": "hand", "prompt": "p", "images": 0, "cost": -100, "v": 1,
        "id": "hand/1", "scene_id": "x", "variant": 1, "model": "gemini-2.5-flash-image", "mode": "dry_run",
        "status": "MODEL_ERROR", "error_code": "MODEL_ERROR", "estimated": 0, "shard": ""}
open('ledger/%s.jsonl' % day, 'w').write(json.dumps(line) + '\n')
PY
expect_exit 3 ag run b.csv --budget-policy partial
assert_contains err.txt "\$100.000000 is already spent today"
[ ! -e out ] || [ "$(find out -name '*.png' | wc -l)" -eq 0 ] || fail "images were made on a day over its limit"
expect_exit 1 ag ledger verify
assert_contains out.txt ":1: bad_cost: cost: \"-100\" is negative (the budget counts it as \$100.000000, never as a credit)"
echo "ok: bad amounts are refused with the flag or file:line; a negative cost is never a credit"
