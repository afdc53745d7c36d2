#!/usr/bin/env bash
# `run --tier batch` through the fake Gemini Batch API: the seed's 199 images (100 rows) are sent
# as one batch (the chunk assetgen-<job>-c1), polled without sleeping (--poll-every 0s: the fake
# moves one state per batches.get), streamed back and stored: 199 valid PNGs, 199 manifest lines.
# The ledger holds one reserve line, 199 paid lines bound to it (tier batch, no lease) and one
# settle line whose amount is their sum. The money: the same plan with --tier standard against the
# same fake costs exactly twice as much, to the micro-dollar. Each line is priced from its
# usageMetadata at its tier's rates, each part rounded up to the micro-dollar, so the half is
# exact when no part has a fraction: the prompts are padded to a multiple of 4 tokens (the fake
# counts one token per 4 characters; $0.50 and $0.25 per 1M input tokens). The seed's own prompts
# are shown too: there every batch line is at most 1 µ$ above half its standard price.
source "$(dirname "$0")/common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20

start_fake gemini gemini_fake.py --api-key e2e-key --batch-schedule PENDING,RUNNING,SUCCEEDED
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key

ag seed --refs-every 0 >seed.csv 2>/dev/null   # 100 rows, 199 images
python3 - <<'PY'
import csv
rows = list(csv.DictReader(open('seed.csv')))
w = csv.DictWriter(open('batch.csv', 'w', newline=''), fieldnames=rows[0].keys(), lineterminator='\n')
w.writeheader()
for r in rows:
    p = r['prompt']
    r['prompt'] = p + 'x' * ((-len(p)) % 16)   # len % 16 == 0: tokens = len // 4, a multiple of 4
    w.writerow(r)
PY

# 1. The batch tier.
expect_exit 0 ag run batch.csv --mode live --api-base "$base" --tier batch --poll-every 0s \
  --out b/out --ledger b/ledger --json
cp out.txt batch-summary.json
assert_contains err.txt "batch: assetgen-job-"
fake_get "$base/_fake/batches" batches.json
python3 - <<'PY' || fail "the fake did not see one batch of 199 requests"
import json
b = json.load(open('batches.json'))
b = b.get('batches', b) if isinstance(b, dict) else b
assert len(b) == 1, b
assert b[0]['displayName'].startswith('assetgen-job-') and b[0]['displayName'].endswith('-c1'), b[0]
assert b[0]['state'].endswith('SUCCEEDED'), b[0]
PY
job=$(python3 -c 'import json; print(json.load(open("batch-summary.json"))["jobId"])')
assert_eq "$(check_pngs "b/out/$job")" 199 "valid PNGs from the batch"
assert_eq "$(count_lines "b/out/$job/manifest.jsonl")" 199 "manifest lines"

# 2. The standard tier, same plan, same fake.
expect_exit 0 ag run batch.csv --mode live --api-base "$base" --concurrency 8 \
  --out s/out --ledger s/ledger
assert_eq "$(check_pngs "s/out/$job")" 199 "valid PNGs from the standard run"

python3 - "$job" <<'PY' || fail "the batch ledger is not half the standard one"
import json, glob, sys
job = sys.argv[1]
def lines(d):
    return [json.loads(l) for p in glob.glob(d + '/*.jsonl') for l in open(p) if l.strip()]
micros = lambda usd: round(usd * 1_000_000)
b, s = lines('b/ledger'), lines('s/ledger')
reserve = [l for l in b if l.get('kind') == 'reserve']
settle = [l for l in b if l.get('kind') == 'settle']
paid = [l for l in b if not l.get('kind')]
assert len(reserve) == 1 and len(settle) == 1 and len(paid) == 199, (len(reserve), len(settle), len(paid))
rid = reserve[0]['id']
assert reserve[0]['batch'].endswith('-c1') and reserve[0]['requests'] == 199
for l in paid:
    assert l['status'] == 'ok' and l['tier'] == 'batch' and l['reservation'] == rid, l
    assert 'lease' not in l, l
    assert l['ts'] == reserve[0]['ts'], 'bound lines carry the reservation ts'
assert settle[0]['reservation'] == rid and settle[0]['error_code'] == ''
btotal = sum(micros(l['cost']) for l in paid)
stotal = sum(micros(l['cost']) for l in s if l['jobId'] == job and l['status'] == 'ok')
assert micros(settle[0]['settled']) == btotal, (settle[0]['settled'], btotal)
assert micros(reserve[0]['reserved']) >= btotal
by_scene = {(l['scene_id'], l['variant']): micros(l['cost']) for l in s if l['jobId'] == job}
for l in paid:
    assert 2 * micros(l['cost']) == by_scene[(l['scene_id'], l['variant'])], l
assert 2 * btotal == stotal, (btotal, stotal)
print('batch $%.6f = half of standard $%.6f, to the micro-dollar (199 images)' % (btotal / 1e6, stotal / 1e6))
PY

# 3. The seed's own prompts: per-line rounding up makes a batch line at most 1 µ$ above half.
fake_post "$base/_fake/reset" '{}'
expect_exit 0 ag run seed.csv --mode live --api-base "$base" --tier batch --poll-every 0s \
  --out b2/out --ledger b2/ledger
expect_exit 0 ag run seed.csv --mode live --api-base "$base" --concurrency 8 --out s2/out --ledger s2/ledger
python3 - <<'PY' || fail "batch lines of the seed's prompts are not within 1 µ$ of half"
import json, glob
def paid(d):
    return {(l['scene_id'], l['variant']): round(l['cost'] * 1e6) for p in glob.glob(d + '/*.jsonl')
            for l in map(json.loads, open(p)) if not l.get('kind') and l['status'] == 'ok'}
b, s = paid('b2/ledger'), paid('s2/ledger')
assert len(b) == len(s) == 199
assert all(0 <= 2 * b[k] - s[k] <= 2 for k in b), [(k, b[k], s[k]) for k in b if not 0 <= 2 * b[k] - s[k] <= 2][:3]
print('seed prompts: batch $%.6f, standard $%.6f, half $%.6f' % (sum(b.values()) / 1e6, sum(s.values()) / 1e6, sum(s.values()) / 2e6))
PY
echo "ok: 199 PNGs through the Batch API; the ledger is half the standard tier's, to the micro-dollar"
