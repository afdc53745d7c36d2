#!/usr/bin/env bash
# Tiers are priced from the model catalog everywhere (issue 15 item 2): the seed's 199-image batch
# through the Gemini fake with --tier standard, flex and priority. Each request carries the
# documented body field service_tier (none at standard, which the API reads as standard), and the
# fake saw that tier on every request; every ledger line says its "tier" and costs its usage at
# that tier's catalog prices to the micro-dollar; the three totals are in the catalog's ratios
# (flex half, priority twice standard) up to each line's rounding up; the estimate and the
# reservation use the tier too. --tier batch sends no synchronous request and its lines say
# "batch". Fails on a build that prices every tier alike, or sends no tier.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 5
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
ag seed --refs-every 0 >batch.csv 2>/dev/null   # 100 rows, 199 images
model=gemini-3.1-flash-image

for tier in standard flex priority; do
  fake_post "$base/_fake/reset" '{}'
  expect_exit 0 ag run batch.csv --mode live --api-base "$base" --model "$model" --tier "$tier" \
    --concurrency 8 --daily-budget-usd 100 --out "out-$tier" --ledger "ledger-$tier" --json
  cp out.txt "summary-$tier.json"
  fake_get "$base/_fake/log" "log-$tier.json"
  fake_get "$base/_fake/stats" "stats-$tier.json"
done

python3 - "$ASSETGEN_SOURCE_DIR/core/budget/models.json" "$model" <<'PY' || fail "tier prices"
import json, glob, sys
from decimal import Decimal
catalog = json.load(open(sys.argv[1]), parse_float=Decimal)
model = next(m for m in catalog['models'] if m['id'] == sys.argv[2])
def micros_per_mtok(d):
    return int(d * 1_000_000)
def up(tokens, per_mtok):
    return (tokens * per_mtok + 999_999) // 1_000_000
totals = {}
for tier in ('standard', 'flex', 'priority'):
    p = model['prices'][tier]
    img, inp = micros_per_mtok(p['output_image_per_mtok']), micros_per_mtok(p['input_per_mtok'])
    txt, thk = micros_per_mtok(p['output_text_per_mtok']), micros_per_mtok(p['thinking_per_mtok'])
    log = json.load(open('log-%s.json' % tier))
    stats = json.load(open('stats-%s.json' % tier))
    assert len(log) == 199 and stats['by_tier'] == {tier: 199}, (tier, stats)
    want = {}
    for e in log:
        assert e['status'] == 200 and e['service_tier'] == tier, e
        u = e['usage']
        image = next(d['tokenCount'] for d in u['candidatesTokensDetails'] if d['modality'] == 'IMAGE')
        assert image == 1120, u   # 1K, the catalog's tokens
        cost = (up(image, img) + up(u['candidatesTokenCount'] - image, txt) + up(u['promptTokenCount'], inp)
                + up(u.get('thoughtsTokenCount', 0), thk))
        assert want.setdefault(e['prompt'], cost) == cost, e['prompt']
    lines = [json.loads(l, parse_float=Decimal) for f in glob.glob('ledger-%s/*.jsonl' % tier) for l in open(f)]
    assert len(lines) == 199 and all(l['status'] == 'ok' and l['tier'] == tier for l in lines), tier
    for l in lines:
        assert int(l['cost'] * 1_000_000) == want[l['prompt']], (tier, l['scene_id'], l['cost'], want[l['prompt']])
    total = sum(int(l['cost'] * 1_000_000) for l in lines)
    estimate = sum(int(l['estimated'] * 1_000_000) for l in lines)
    s = json.load(open('summary-%s.json' % tier))
    assert round(Decimal(str(s['actualCostUsd'])) * 1_000_000) == total, (tier, s['actualCostUsd'], total)
    # The estimate is the tier's stated price of a 1K image plus input, for each image.
    per_image = micros_per_mtok(p['per_image']['1K'])
    assert 199 * per_image <= estimate < 199 * (per_image + 200), (tier, estimate)
    totals[tier] = total
    print('%-8s 199 images: $%.6f (estimate $%.6f)' % (tier, total / 1e6, estimate / 1e6))
# The catalog's ratios, to the micro-dollar: each line rounds each part up once (at most 4 parts).
assert abs(2 * totals['flex'] - totals['standard']) <= 2 * 4 * 199, totals
assert abs(totals['priority'] - 2 * totals['standard']) <= 4 * 199, totals
assert totals['flex'] < totals['standard'] < totals['priority'], totals
PY

# Flex is best effort: a shed request (503 here; 429 and 504 are retried alike, the pages do not
# say which a shed request gets) is retried and the image is made, still at flex.
one_variant_batch small.csv 3
fake_post "$base/_fake/reset" '{}'
fake_post "$base/_fake/faults" '{"rules": [{"fault": "503", "first_n": 2}]}'
expect_exit 0 ag run small.csv --mode live --api-base "$base" --model "$model" --tier flex --concurrency 1 \
  --out out-shed --ledger ledger-shed --json
fake_get "$base/_fake/log" log-shed.json
python3 - <<'PY' || fail "flex retries"
import json, glob
log = json.load(open('log-shed.json'))
assert [e['status'] for e in log] == [503, 503, 200, 200, 200], [e['status'] for e in log]
assert all(e['service_tier'] == 'flex' for e in log), log
lines = [json.loads(l) for f in glob.glob('ledger-shed/*.jsonl') for l in open(f)]
assert len(lines) == 3 and all(l['status'] == 'ok' and l['tier'] == 'flex' for l in lines), lines
PY

# batch goes through the Batch API (e2e/batch-tier-half-price checks its prices): no
# synchronous request, and every paid line says "batch".
fake_post "$base/_fake/reset" '{}'
expect_exit 0 ag run batch.csv --mode live --api-base "$base" --model "$model" --tier batch \
  --poll-every 0s --out out-b --ledger ledger-b
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; assert json.load(open("stats.json"))["requests"] == 0' || fail "--tier batch sent synchronous requests"
python3 - <<'PY' || fail "--tier batch: ledger lines not at the batch tier"
import glob, json
lines = [json.loads(l) for f in glob.glob('ledger-b/*.jsonl') for l in open(f)]
paid = [l for l in lines if l.get('kind', '') not in ('reserve', 'settle')]
assert len(paid) == 199 and all(l['tier'] == 'batch' for l in paid), len(paid)
PY
echo ok
