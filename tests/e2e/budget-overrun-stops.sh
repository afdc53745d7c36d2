#!/usr/bin/env bash
# A hard ceiling per request (issue 13). Every request carries generationConfig.maxOutputTokens =
# the image's tokens + the thinking allowance + the text allowance of the price table (3376 for
# Gemini 3 Pro Image at 1K), the same numbers the budget reserved. A server that bills past the
# cap anyway (thoughtsTokenCount 400,000, $4.80 of thinking) is caught on its first answer: the
# true cost goes into the ledger, nothing more is sent (the fake sees one request at concurrency
# 1, at most four at concurrency 4), the run exits 3 naming the overrun in dollars, and a re-run
# the same day sends nothing once the day cannot fit an image. Fails on a build that sends no
# cap, keeps sending after an overrun, or lets a re-run start.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 30 --thoughts-tokens 400000
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
one_variant_batch b.csv 10
live=(--mode live --api-base "$base" --model gemini-3-pro-image --image-size 1K)

# 1. $5 a day, one request at a time.
expect_exit 3 ag run b.csv "${live[@]}" --daily-budget-usd 5 --concurrency 1 --json
assert_contains err.txt "more than was reserved (1 request(s) past maxOutputTokens)"
assert_contains err.txt "no further request was sent"
fake_get "$base/_fake/log" log.json
python3 - <<'PY' || fail "the overrun run"
import json, glob
from decimal import Decimal
log = json.load(open('log.json'))
assert len(log) == 1, 'the fake saw %d requests after the first overrun' % len(log)
g = log[0]['generation_config']
assert g['maxOutputTokens'] == 1120 + 2000 + 256, g
assert 'thinkingConfig' not in g, g   # 3 Pro Image thinks always: only the cap bounds it
lines = [json.loads(l, parse_float=Decimal) for p in glob.glob('ledger/*.jsonl') for l in open(p)]
ok = [l for l in lines if l['status'] == 'ok']
assert len(ok) == 1 and ok[0]['thoughts_tokens'] == 400000, ok
u = log[0]['usage']
assert u['candidatesTokenCount'] == 1120, u   # 3 Pro Image at 1K (the fake bills the catalog's tokens)
true = (Decimal(u['promptTokenCount']) * 2 + Decimal(1120) * 120 + Decimal(400000) * 12) / 10**6
true = true.quantize(Decimal('0.000001'), rounding='ROUND_UP')
assert ok[0]['cost'] >= true - Decimal('0.000002') and ok[0]['cost'] > Decimal('4.8'), (ok[0]['cost'], true)
total = sum(l['cost'] for l in lines)
assert total <= Decimal(5) + ok[0]['cost'], total
s = json.load(open('out.txt'))
assert s['status'] == 'budget_exceeded' and s['budget']['overrunRequests'] == 1, s['budget']
assert Decimal(str(s['budget']['reservationOverrunUsd'])) > Decimal('4.7'), s['budget']
PY

# 2. The same day again: $4.9x spent, no image fits in what is left; nothing is sent.
expect_exit 3 ag run b.csv "${live[@]}" --daily-budget-usd 5 --concurrency 1
assert_contains err.txt "Nothing was run"
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; n = json.load(open("stats.json"))["requests"]; assert n == 1, n' ||
  fail "a re-run sent requests on a day that cannot fit one"

# 3. Over the limit (a $4 day), any policy refuses at once.
expect_exit 3 ag run b.csv "${live[@]}" --daily-budget-usd 4 --budget-policy partial
assert_contains err.txt "is already spent today"
assert_contains err.txt "over it by"

# 4. Four in flight: the ones already sent are paid and recorded, no fifth is sent.
rm -rf ledger out
fake_post "$base/_fake/reset" '{}'
expect_exit 3 ag run b.csv "${live[@]}" --daily-budget-usd 25 --concurrency 4
fake_get "$base/_fake/log" log.json
python3 - <<'PY' || fail "the overrun run at concurrency 4"
import json, glob
from decimal import Decimal
n = len(json.load(open('log.json')))
lines = [json.loads(l, parse_float=Decimal) for p in glob.glob('ledger/*.jsonl') for l in open(p)]
ok = [l for l in lines if l['status'] == 'ok']
assert 1 <= n <= 4 and len(ok) == n, (n, len(ok))
assert sum(l['cost'] for l in lines) <= Decimal(25) + 4 * max(l['cost'] for l in ok)
PY
echo "ok: the cap is sent; an overrun is recorded at its true cost and stops the run; the day stays closed"
