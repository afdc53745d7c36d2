#!/usr/bin/env bash
# In live mode, what the ledger charges comes from the answer's usageMetadata, priced by the
# built-in table for gemini-3.1-flash-image, the default model (the catalog): output tokens at
# $60 per 1M plus promptTokenCount at $0.50 per 1M, each part rounded up to the next micro-dollar
# (a budget never under-counts). The expected cost is recomputed here from the usage the fake
# logged for each prompt, with integer arithmetic, and compared to every ok ledger line, manifest
# line and item_complete event. `estimated` on each line is the pre-flight estimate of that
# image: the lines add up to the pre-flight estimateUsd and to the summary's estimatedCostUsd,
# and the summary's actualCostUsd is the ledger's total. Two runs: the 199-image seed plan (its
# summary JSON is printed below, for README.md), then 3 rows whose prompts are long enough that
# rounding up differs from rounding to nearest (promptTokenCount 11, 333 and 1001 at --tier flex,
# $0.25 per 1M: 2.75, 83.25, 250.25 µ$; at standard's $0.50 every fraction is 0 or one half,
# where rounding up and to nearest agree).
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model estimate $13.34, over the default $10 day limit;
# the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 20
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key

check_costs() { python3 - "$@" <<'PY'
import json, glob, sys
images = int(sys.argv[1])
flex = len(sys.argv) > 2 and sys.argv[2] == 'flex'  # --tier flex: every price halved
s = json.load(open('out.txt'))
job = s['jobId']
log = json.load(open('log.json'))
PER_MTOK_OUT, PER_MTOK_IN = 60_000_000, 500_000   # micro-dollars per 1M tokens: $60, $0.50
if flex:
    PER_MTOK_OUT, PER_MTOK_IN = 30_000_000, 250_000
def up(tokens, per_mtok):                          # tokens × price, rounded up to 1 micro-dollar
    return (tokens * per_mtok + 999_999) // 1_000_000
usage = {}
for e in log:
    assert e['status'] == 200 and e['usage'], e
    u = e['usage']
    assert 'thoughtsTokenCount' not in u, u
    want = up(u['candidatesTokenCount'], PER_MTOK_OUT) + up(u['promptTokenCount'], PER_MTOK_IN)
    assert usage.setdefault(e['prompt'], want) == want, e['prompt']
micros = lambda usd: round(usd * 1_000_000)
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
led = [l for l in led if l['jobId'] == job]
ok = [l for l in led if l['status'] == 'ok']
assert len(ok) == len(led) == images, (len(ok), len(led), images)
for l in ok:
    assert micros(l['cost']) == usage[l['prompt']], \
        '%s v%d: ledger cost %.6f, usage prices at %.6f' % (l['scene_id'], l['variant'], l['cost'], usage[l['prompt']] / 1e6)
    low = 33_500 if flex else 67_000  # $0.067 an image (1K; flex $0.0335) plus a little input
    assert low <= micros(l['estimated']) < low + 1_000, l
man = {(m['scene_id'], m['variant']): m for m in map(json.loads, open('out/%s/manifest.jsonl' % job))}
for l in ok:
    m = man[(l['scene_id'], l['variant'])]
    assert micros(m['cost']) == micros(l['cost']) and micros(m['estimated']) == micros(l['estimated']), (m, l)
ev = [json.loads(x) for x in open('events.jsonl') if x.strip()]
done = {(e['scene_id'], e['variant']): e for e in ev if e['event'] == 'item_complete' and e['uri'].find(job) >= 0}
assert len(done) == images and all(micros(done[(l['scene_id'], l['variant'])]['cost_usd']) == micros(l['cost']) for l in ok)
total, est = sum(micros(l['cost']) for l in ok), sum(micros(l['estimated']) for l in ok)
assert micros(s['actualCostUsd']) == total, (s['actualCostUsd'], total)
assert micros(s['estimatedCostUsd']) == est == micros(s['preflight']['estimateUsd']), \
    (s['estimatedCostUsd'], est, s['preflight']['estimateUsd'])
print('%d images: actual $%.6f (from usage), estimated $%.6f' % (images, total / 1e6, est / 1e6))
PY
}

# 1. The seed plan.
ag seed --refs-every 0 >batch.csv 2>/dev/null   # 100 rows, 199 images
expect_exit 0 ag run batch.csv --mode live --api-base "$base" --concurrency 8 --events events.jsonl --json
fake_get "$base/_fake/log" log.json
check_costs 199 || fail "costs of the seed plan"
echo "--- summary JSON of a live run of the seed plan (assetgen run batch.csv --mode live --concurrency 8 --json):"
cat out.txt
echo "---"

# 2. Prompts whose input cost has a fraction below one half.
fake_post "$base/_fake/reset" '{}'
python3 - <<'PY'
import csv
w = csv.writer(open('long.csv', 'w', newline=''), lineterminator='\n')
w.writerow(['scene_id', 'prompt', 'variants'])
for sid, tokens in (('L-11', 11), ('L-333', 333), ('L-1001', 1001)):  # the fake counts len // 4
    text = ('a studio photo of a ceramic mug, soft light, ' * 200)[:tokens * 4]
    w.writerow([sid, text.rstrip() + 'x' * (len(text) - len(text.rstrip())), 1])
PY
expect_exit 0 ag run long.csv --mode live --api-base "$base" --events events.jsonl --json --tier flex
fake_get "$base/_fake/log" log.json
python3 -c 'import json; t = sorted(e["usage"]["promptTokenCount"] for e in json.load(open("log.json")))
assert t == [11, 333, 1001], t' || fail "the long prompts do not have the intended token counts"
check_costs 3 flex || fail "costs of the long prompts"
echo "ok: every ledger cost is the usageMetadata priced by the built-in table, rounded up per part; estimates add up"
