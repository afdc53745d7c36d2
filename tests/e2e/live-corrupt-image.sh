#!/usr/bin/env bash
# An image is stored before it is counted: a 200 answer whose image part is not an image
# ([fault:corrupt-image], billed like any answer) is never stored or marked ok. Its cost is in the
# ledger (status BAD_RESPONSE, no image) and the image is made again; a row whose every answer is
# corrupt ends failed with BAD_RESPONSE after --max-attempts, each attempt charged once. Every 200
# the fake sent has its ledger line; a re-run makes only the failed row again.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key
base=$(fake_url gemini)
cat >batch.csv <<'CSV'
scene_id,prompt,variants
OK-1,a teapot on clean bg,1
ONCE,a chair on clean bg [fault:corrupt-image*1],1
ALWAYS,a lamp on clean bg [fault:corrupt-image],1
CSV
live=(--mode live --api-base "$base" --concurrency 2 --max-attempts 2 --daily-budget-usd 5)
GEMINI_API_KEY=e2e-key expect_exit 1 ag run batch.csv "${live[@]}" --results results.csv --json
cp out.txt summary.json
fake_get "$base/_fake/stats" stats.json
[ "$(check_pngs out)" -eq 2 ] || fail "expected 2 decodable PNGs"
[ ! -e out/*/ALWAYS ] || [ -z "$(ls out/*/ALWAYS)" ] || fail "a corrupt image was stored"
python3 - <<'PY' || fail "corrupt answers"
import json, glob, csv
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
assert rows['OK-1']['status'] == 'ok' and rows['ONCE']['status'] == 'ok', rows
a = rows['ALWAYS']
assert a['status'] == 'failed' and a['error_code'] == 'BAD_RESPONSE', a
assert 'not a PNG, JPEG or WebP image' in a['error'], a['error']
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
bad = [l for l in led if l['status'] == 'BAD_RESPONSE' and l['cost'] > 0]
by_scene = {}
for l in bad:
    by_scene[l['scene_id']] = by_scene.get(l['scene_id'], 0) + 1
assert by_scene == {'ONCE': 1, 'ALWAYS': 2}, by_scene
assert all(l['images'] == 0 for l in bad)
ok = [l for l in led if l['status'] == 'ok']
assert sorted(l['scene_id'] for l in ok) == ['OK-1', 'ONCE'], ok
stats = json.load(open('stats.json'))
answered = stats['by_status'].get('200', 0)
charged = [l for l in led if l['cost'] > 0]
assert answered == len(charged) == 5, (answered, len(charged))
s = json.load(open('summary.json'))
total = round(sum(l['cost'] for l in led), 6)
assert abs(s['actualCostUsd'] - total) < 1e-6, (s['actualCostUsd'], total)
assert float(rows['ALWAYS']['cost_usd']) > 0, 'the failed row cost money and says so'
man = [json.loads(l) for p in glob.glob('out/*/manifest.jsonl') for l in open(p)]
assert sorted(m['scene_id'] for m in man) == ['OK-1', 'ONCE'], man
PY
echo "ok: corrupt images are charged, recorded and made again, never stored as ok"
