#!/usr/bin/env bash
# A day's budget that fits some of the run's requests, many in flight, and answers billed far
# past their reservation ([thoughts-tokens:400000]: $4.80 of thinking on a $1.50 day). The day is
# then over its limit for good: the requests waiting for room must be refused at once, ending
# the run with BUDGET_EXCEEDED (exit 3), not wait for room that nothing can free. The run is
# given 120 s (it takes a few): a build whose waiting requests wait for ever fails here instead
# of hanging. A second process sharing the ledger is refused too. A guard, not a reproduction:
# the build before the fix passes it as well (the runner's reservations settle on the commit
# thread, so its waits ended); the self-wait itself is shown by ledger_budget_wait_test.cpp.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 300
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
python3 - <<'PY'
import csv
with open('b.csv', 'w', newline='') as f:
    w = csv.writer(f, lineterminator='\n')
    w.writerow(['scene_id', 'prompt', 'variants'])
    # Every row overruns: the 16 workers race for the day's room, so which rows are sent
    # depends on the scheduler (under load ROW-001's worker may find no room at all, and a run
    # whose sent rows all answered honestly proves nothing here).
    for i in range(1, 41):
        w.writerow(['ROW-%03d' % i, 'product on clean bg #%d [thoughts-tokens:400000]' % i, 1])
PY
live=(--mode live --api-base "$base" --model gemini-3-pro-image --image-size 1K)

set +e
timeout 120 "$ASSETGEN" run b.csv "${live[@]}" --daily-budget-usd 1.5 --budget-policy partial \
  --concurrency 16 --json >out.txt 2>err.txt
got=$?
set -e
[ "$got" -ne 124 ] || { cat err.txt >&2; fail "the run still waited for budget after 120 s"; }
[ "$got" -eq 3 ] || { cat err.txt >&2; fail "the run exited $got, expected 3"; }
fake_get "$base/_fake/log" log.json
python3 - <<'PY' || fail "the overrun run"
import json, glob
from decimal import Decimal
log = json.load(open('log.json'))
lines = [json.loads(l, parse_float=Decimal) for p in glob.glob('ledger/*.jsonl') for l in open(p)]
ok = [l for l in lines if l['status'] == 'ok']
assert any(l['thoughts_tokens'] == 400000 for l in ok), 'the overrun answer is not charged'
assert len(ok) == len(log), (len(ok), len(log))   # every paid answer recorded once
s = json.load(open('out.txt'))
assert s['status'] == 'budget_exceeded', s['status']
PY

# The day is over its limit: another run is refused at once, sending nothing.
n_before=$(python3 -c 'import json; print(len(json.load(open("log.json"))))')
set +e
timeout 60 "$ASSETGEN" run b.csv "${live[@]}" --daily-budget-usd 1.5 --budget-policy partial \
  --concurrency 16 >out.txt 2>err.txt
got=$?
set -e
[ "$got" -eq 3 ] || { cat err.txt >&2; fail "the second run exited $got, expected 3"; }
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json, sys; n = json.load(open("stats.json"))["requests"]; assert n == int(sys.argv[1]), n' "$n_before" ||
  fail "a run on a day over its limit sent requests"
echo "ok: an overrun past the limit under concurrency ends the run with exit 3 at once"
