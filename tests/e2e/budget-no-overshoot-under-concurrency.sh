#!/usr/bin/env bash
# 100 repetitions at --concurrency 64 with simulated latency jitter against a $1.00 budget:
# spent never passes the limit (overshoot 0 every time) and the budget is used up as far as it
# goes (14 images at ≈ $0.0672 each, gemini-3.1-flash-image at 1K; the 15th would not fit its
# reservation).
source "$(dirname "$0")/common.inc"

ag seed >b.csv 2>/dev/null
reps=${BUDGET_REPS:-100}
for i in $(seq 1 "$reps"); do
  rm -rf out ledger
  set +e
  ag run b.csv --daily-budget-usd 1 --budget-policy partial --concurrency 64 \
    --simulate "latency=5ms,jitter=5ms,seed=$i" --quiet --json >s.json 2>err.txt
  rc=$?
  set -e
  [ $rc -eq 3 ] || { cat err.txt >&2; fail "rep $i: exit $rc"; }
  python3 - "$i" <<'PY' || fail "rep $i"
import json, glob, sys
from decimal import Decimal
lines = [json.loads(l, parse_float=Decimal) for p in glob.glob('ledger/*.jsonl') for l in open(p)]
total = sum(l['cost'] for l in lines)
images = sum(l['images'] for l in lines)
assert total <= Decimal('1.00'), ('overshoot', total)
assert images == 14, ('images', images)
assert json.load(open('s.json'))['budget']['overshootUsd'] == 0
PY
done
echo "ok: $reps repetitions at concurrency 64, overshoot 0, 14 images each time"
