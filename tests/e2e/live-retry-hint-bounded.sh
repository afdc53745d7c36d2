#!/usr/bin/env bash
# A 429 whose RetryInfo asks for 100000s (27.8 hours) is not waited for: with the default
# --max-retry-delay (10m) the request ends at once as MODEL_RATE_LIMIT, stderr says the delay
# asked and the limit, the row's result says so, and the run exits 1 (rows failed) in seconds.
# A hint under the limit is still honoured (the other row is retried and made).
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
cat >b.csv <<'CSV'
scene_id,prompt,variants
LONG,a chair [fault:429:100000s],1
SHORT,a table [fault:429:1s*1],1
CSV
t0=$(date +%s.%N)
expect_exit 1 ag run b.csv --mode live --api-base "$base" --results results.csv --events events.jsonl
took=$(elapsed_since "$t0")
cat err.txt
python3 -c "import sys; sys.exit(0 if float('$took') < 20 else 1)" || fail "took ${took}s"
assert_contains err.txt 'b.csv:2: the server asked to wait 1d3h (100000s) before a retry, longer than --max-retry-delay 10m'
assert_contains err.txt 'MODEL_RATE_LIMIT'
assert_contains results.csv 'MODEL_RATE_LIMIT'
assert_contains events.jsonl '"event":"retry_refused"'
python3 - <<'PY' || fail "results"
import csv
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
assert rows['SHORT']['status'] == 'ok', rows['SHORT']
assert rows['LONG']['status'] != 'ok' and 'MODEL_RATE_LIMIT' in str(rows['LONG']), rows['LONG']
PY
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; s = json.load(open("stats.json")); assert s["requests"] == 3, s' || fail "requests"

# The limit is a flag (and an environment variable): 0 refuses every hint.
ASSETGEN_MAX_RETRY_DELAY=0s expect_exit 1 ag run b.csv --mode live --api-base "$base" --job-id second
assert_contains err.txt 'longer than --max-retry-delay 0ms'
echo "ok: a 100000s RetryInfo ended its request in ${took}s with MODEL_RATE_LIMIT and a warning"
