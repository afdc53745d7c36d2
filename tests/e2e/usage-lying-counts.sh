#!/usr/bin/env bash
# A server whose usageMetadata cannot be a bill ([usage:FIELD=VALUE], tests/fakes/README.md): a
# negative candidatesTokenCount, 2^63, 1e300, the string "-3". Each such answer is charged the
# request's worst case (its reservation), never ~$0 (the negative count read as 0) nor hundreds
# of billions of dollars (2^63 tokens): the same amount on every lying line, above the honest
# answer's cost, the line naming the anomaly (usage_anomaly) without token counts. `ledger
# verify` is clean, one warning on stderr names the row, the run exits 0 (its images are
# good), and the next run of the day is not refused. The batch tier the same.
source "$(dirname "$0")/common.inc"
export ASSETGEN_DAILY_BUDGET_USD=5

start_fake gemini gemini_fake.py --api-key e2e-key --batch-schedule PENDING,RUNNING,SUCCEEDED
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
python3 - <<'PY'
import csv
rows = [('ROW-001', '[usage:candidatesTokenCount=-5000]'),
        ('ROW-002', '[usage:candidatesTokenCount=9223372036854775808]'),
        ('ROW-003', '[usage:candidatesTokenCount=1e300]'),
        ('ROW-004', '[usage:thoughtsTokenCount="-3"]'),
        ('ROW-005', '')]
for name, prefix in (('a.csv', 'A'), ('b.csv', 'B')):
    with open(name, 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['scene_id', 'prompt', 'variants'])
        for scene, marker in rows:
            prompt = 'product on clean bg ' + scene + ' ' + marker
            w.writerow([prefix + scene, prompt + 'x' * (80 - len(prompt)), 1])  # one worst case
PY

check_ledger() {  # LEDGER TIER PREFIX
  python3 - "$@" <<'PY' || fail "the ledger of $2 charges a lying count wrongly"
import json, glob, sys
from decimal import Decimal
folder, tier, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
lines = [json.loads(l, parse_float=Decimal) for p in glob.glob(folder + '/*.jsonl') for l in open(p)
         if l.strip()]
paid = {l['scene_id']: l for l in lines if l.get('kind', '') == '' and l['scene_id'].startswith(prefix)}
assert len(paid) == 5, sorted(paid)
want = {'ROW-001': 'candidatesTokenCount:negative', 'ROW-002': 'candidatesTokenCount:above_limit',
        'ROW-003': 'candidatesTokenCount:above_limit', 'ROW-004': 'thoughtsTokenCount:negative'}
honest = paid[prefix + 'ROW-005']
assert 'usage_anomaly' not in honest and honest['output_tokens'] > 0, honest
worst = {l['cost'] for s, l in paid.items() if s != prefix + 'ROW-005'}
assert len(worst) == 1, worst                      # every lying line costs the worst case
worst = worst.pop()
assert honest['cost'] < worst < Decimal('1'), (honest['cost'], worst)
for scene, anomaly in want.items():
    l = paid[prefix + scene]
    assert l['usage_anomaly'] == anomaly, l
    assert 'output_tokens' not in l, l               # counts that cannot be a bill are not written
    assert l['status'] == 'ok' and l['images'] == 1 and l['tier'] == tier, l
PY
}

# 1. Synchronous requests.
expect_exit 0 ag run a.csv --mode live --api-base "$base" --concurrency 1 --json
assert_contains err.txt 'AROW-001" v1: the server'"'"'s usageMetadata cannot be a bill (candidatesTokenCount:negative)'
[ "$(grep -c 'cannot be a bill' err.txt)" -eq 1 ] || fail "the anomaly is said more than once on stderr"
check_ledger ledger standard A
expect_exit 0 ag ledger verify --ledger ledger
# 2. The batch tier (the Gemini Batch API's result lines), the same day: not refused.
expect_exit 0 ag run b.csv --mode live --api-base "$base" --tier batch --poll-every 0s --json
assert_contains err.txt "cannot be a bill"
check_ledger ledger batch B
expect_exit 0 ag ledger verify --ledger ledger
echo "ok: usage counts that cannot be a bill charge the worst case, named, and verify clean"
