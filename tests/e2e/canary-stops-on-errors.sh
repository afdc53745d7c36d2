#!/usr/bin/env bash
# A canary whose first stage fails the error-rate gate exits 4 and runs nothing more: every
# ledger line belongs to a row of the 10% subset (SHA-256 of salt, NUL, scene_id < 0.10).
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

ag seed >batch.csv 2>/dev/null
# One attempt per image, so about 30% of the images end in an error (with retries almost none
# would). With salt s1 the 10% stage has 21 images; --min-samples 10 keeps the gate decisive
# at the first stage even if the subset were smaller.
expect_exit 4 ag canary batch.csv --simulate error_rate=0.3,seed=1 --max-attempts 1 \
  --min-samples 10 --salt s1 --json
cp out.txt canary.json
python3 <<'PY' || fail "report or ledger"
import hashlib, json, glob, csv
def place(scene_id, salt=b's1'):
    return int.from_bytes(hashlib.sha256(salt + b'\0' + scene_id.encode()).digest()[:8], 'big') / 2**64
rows = list(csv.DictReader(open('batch.csv')))
subset = {r['scene_id'] for r in rows if place(r['scene_id']) < 0.10}
assert 0 < len(subset) < len(rows)
r = json.load(open('canary.json'))
assert r['verdict'] == 'fail' and r['failedGate'] == 'error_rate', (r['verdict'], r['failedGate'])
assert len(r['results']) == 1, 'stages run: %d' % len(r['results'])
assert r['results'][0]['rows'] == len(subset), (r['results'][0]['rows'], len(subset))
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
assert led, 'no ledger lines'
outside = {l['scene_id'] for l in led} - subset
assert not outside, 'ledger rows outside the 10%% stage: %s' % sorted(outside)
want = sum(int(r['variants']) for r in rows if r['scene_id'] in subset)
assert len(led) == want, (len(led), want)
PY
assert_contains err.txt "canary failed at gate error_rate"

# Text: the stage table names the failing gate; the next stages did not run.
expect_exit 4 ag canary batch.csv --simulate error_rate=0.3,seed=1 --max-attempts 1 \
  --min-samples 10 --salt s1 --out out2 --ledger ledger2
assert_contains out.txt "error_rate"
assert_contains out.txt "fail"
if grep -q "stage 2/4" out.txt; then fail "stage 2 ran after a failing stage 1"; fi
echo "ok: a failing first stage exits 4 and the ledger holds only the 10% subset"
