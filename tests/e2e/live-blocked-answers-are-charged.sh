#!/usr/bin/env bash
# A refusal is not free: Google bills an answer withheld for safety its prompt and the thinking the
# model did before it stopped (usageMetadata promptTokenCount + thoughtsTokenCount; the fake reports
# 240 thoughts on an IMAGE_SAFETY answer, as a captured refusal does). Proves:
#   1. a live run with one row withheld for safety ([fault:image-safety]), one blocked prompt and one
#      ok row: the BLOCKED lines cost exactly prompt × $0.50/M + thoughts × $3.00/M (rounded up to the
#      micro-dollar; gemini-3.1-flash-image, the default model) from the fake's own usage, keep the token counts, the rows stay BLOCKED and are
#      asked once; the summary's actual cost is the ledger's sum; `ledger verify` finds nothing wrong
#      (cost_vs_tokens judges the BLOCKED lines too) and flags a BLOCKED line whose cost is edited;
#   2. the budget counts refusals: a run of only refusals (--budget-policy partial, concurrency 1)
#      stops when the daily limit is used up (exit 3), after fewer requests than rows, with the
#      ledger's spend within the limit and no room left for one more request's worst case.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 5
base=$(fake_url gemini)
cat >batch.csv <<'CSV'
scene_id,prompt,variants
OK-1,a teapot on clean bg,1
UNSAFE,an unsafe picture of something long enough to have a few tokens [fault:image-safety],1
PROMPT,a forbidden thing [fault:block-prompt],1
CSV
GEMINI_API_KEY=e2e-key expect_exit 1 ag run batch.csv --mode live --api-base "$base" --concurrency 1 \
  --results results.csv --json
cp out.txt summary.json
fake_get "$base/_fake/log" log.json

python3 - <<'PY' || fail "blocked answers are charged their usage"
import csv, glob, json, math
log = {e['prompt']: e for e in json.load(open('log.json'))}
lines = [json.loads(l) for f in sorted(glob.glob('ledger/*.jsonl')) for l in open(f) if l.strip()]
by_scene = {}
for l in lines:
    by_scene.setdefault(l['scene_id'], []).append(l)
def usd_micros(x): return round(x * 1e6)
def expected(u):  # gemini-3.1-flash-image: $0.50/M input, $3.00/M text and thinking
    return math.ceil(u.get('promptTokenCount', 0) * 0.50) + math.ceil(u.get('thoughtsTokenCount', 0) * 3.0)
for sid, marker in (('UNSAFE', 'image-safety'), ('PROMPT', 'block-prompt')):
    [line] = by_scene[sid]  # one request, one line: not retried
    [entry] = [e for p, e in log.items() if '[fault:%s]' % marker in p]
    u = entry['usage']
    print(sid, line['status'], line['cost'], line.get('prompt_tokens'), line.get('thoughts_tokens'), u)
    assert line['status'] == 'BLOCKED' and line['images'] == 0, line
    assert line['prompt_tokens'] == u['promptTokenCount'], (line, u)
    assert line.get('thoughts_tokens', 0) == u.get('thoughtsTokenCount', 0), (line, u)
    assert usd_micros(line['cost']) == expected(u) > 0, (line['cost'], expected(u))
assert log[[p for p in log if 'image-safety' in p][0]]['usage']['thoughtsTokenCount'] == 240
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
assert rows['UNSAFE']['status'].upper() == 'BLOCKED' and rows['PROMPT']['status'].upper() == 'BLOCKED', rows
s = json.load(open('summary.json'))
total = sum(usd_micros(l['cost']) for l in lines)
assert usd_micros(s['actualCostUsd']) == total, (s['actualCostUsd'], total)
assert s['errorsByCode'] == {'BLOCKED': 2}, s
PY
expect_exit 0 ag ledger verify ledger --json
python3 -c 'import json; r = json.load(open("out.txt")); assert r["ok"] and r["entries"] == 3, r' \
  || fail "ledger verify disagrees with a line"
# A BLOCKED line whose cost no longer matches its tokens is caught.
python3 - <<'PY'
import glob, json
f = sorted(glob.glob('ledger/*.jsonl'))[0]
out = []
for l in open(f):
    e = json.loads(l)
    if e['scene_id'] == 'UNSAFE':
        e['cost'] = 0
    out.append(json.dumps(e))
open(f, 'w').write('\n'.join(out) + '\n')
PY
expect_exit 1 ag ledger verify ledger
assert_contains out.txt cost_vs_tokens

# 2. Only refusals: the budget fills up with what they cost, and the run stops. $0.08: one request's
# worst case ($0.074034 at the default model) fits, and a few refusals (≈ $0.0007 each) beside it.
rm -rf ledger out
one_variant_batch blocked.csv 40 " [fault:image-safety]"
fake_post "$base/_fake/reset" '{}'
GEMINI_API_KEY=e2e-key expect_exit 3 ag run blocked.csv --mode live --api-base "$base" --concurrency 1 \
  --daily-budget-usd 0.08 --budget-policy partial --events events.jsonl --json
fake_get "$base/_fake/stats" stats.json
python3 - <<'PY' || fail "a run of refusals stops at the budget"
import glob, json
lines = [json.loads(l) for f in glob.glob('ledger/*.jsonl') for l in open(f) if l.strip()]
blocked = [l for l in lines if l['status'] == 'BLOCKED']
spent = sum(round(l['cost'] * 1e6) for l in blocked)
requests = json.load(open('stats.json'))['requests']
ev = [json.loads(l) for l in open('events.jsonl') if l.strip()]
[exhausted] = [e for e in ev if e['event'] == 'budget' and e.get('event_detail') == 'exhausted'][:1]
print('requests', requests, 'blocked lines', len(blocked), 'spent µ$', spent, exhausted)
assert 0 < requests < 40 and len(blocked) == requests, (requests, len(blocked))
assert all(round(l['cost'] * 1e6) > 0 for l in blocked)
assert spent <= 80_000, spent
assert round(exhausted['spent_usd'] * 1e6) == spent, (exhausted, spent)
assert spent + round(exhausted['needed_usd'] * 1e6) > 80_000, exhausted
assert any(l['status'] == 'BUDGET_EXCEEDED' for l in lines)
PY
echo "ok: refusals cost their prompt and thinking tokens to the micro-dollar, verify agrees, the budget counts them"
