#!/usr/bin/env bash
# The dry-run budget at $1.00 with ≈ $0.0672 images (gemini-3.1-flash-image at 1K): `--budget-policy partial` makes exactly 14
# images and marks the rest BUDGET_EXCEEDED (exit 3); `refuse` (the default) exits 3 with zero
# ledger lines and zero images and says how much is missing.
source "$(dirname "$0")/common.inc"

ag seed >b.csv 2>/dev/null

expect_exit 3 ag run b.csv --daily-budget-usd 1
assert_contains err.txt "missing"
assert_contains err.txt "Nothing was run"
[ ! -e ledger ] || [ "$(cat ledger/*.jsonl 2>/dev/null | wc -l)" -eq 0 ] || fail "refuse wrote ledger lines"
[ "$(find . -name '*.png' | wc -l)" -eq 0 ] || fail "refuse made images"

expect_exit 3 ag run b.csv --daily-budget-usd 1 --budget-policy partial --concurrency 8 --results r.csv --json
assert_eq "$(find out -name '*.png' | wc -l | tr -d ' ')" 14 "images made within \$1.00"
assert_eq "$(json_sum images ledger/*.jsonl)" 14 "ledger images"
python3 - <<'PY' || fail "ledger total, results and summary"
import csv, json, glob
from decimal import Decimal
lines = [json.loads(l, parse_float=Decimal) for p in glob.glob('ledger/*.jsonl') for l in open(p)]
total = sum(l['cost'] for l in lines)
assert total <= Decimal('1.00'), total
s = json.load(open('out.txt'))
assert s['status'] == 'budget_exceeded' and s['imagesGenerated'] == 14, s
assert s['budget']['overshootUsd'] == 0, s['budget']
rows = list(csv.DictReader(open('r.csv')))
assert any(r['status'] == 'budget_exceeded' and r['error_code'] == 'BUDGET_EXCEEDED' for r in rows)
PY
echo "ok: partial makes exactly 14 images within \$1.00; refuse spends nothing"
