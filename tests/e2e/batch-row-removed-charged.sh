#!/usr/bin/env bash
# A row deleted from the sheet while its batch runs (the same --job-id): Google bills its
# result all the same, so the collect charges it — a ROW_REMOVED ledger line bound to the
# chunk's reservation, no image — and the settle line, `ledger sum` and `ledger verify` agree
# with what was billed (4 results), while 3 images are stored. The old build dropped the line:
# the ledger said $0.12 for a batch billed $0.16.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"

start_batch_fake
one_variant_batch rows.csv 4
cmd=(ag run rows.csv --mode live --api-base "$base" --tier batch --no-wait --daily-budget-usd 100
  --job-id removed --quiet)

batch_knob '{"schedule":["PENDING","SUCCEEDED"],"hold":true}'
expect_exit 75 "${cmd[@]}"
sed -i '$d' rows.csv  # ROW-004 taken out of the sheet
batch_knob '{"hold":false}'
expect_exit 0 "${cmd[@]}"
assert_eq "$(check_pngs out)" 3 "valid PNGs"
python3 - <<'PY' || fail "the ledger of the batch"
import glob, json
from decimal import Decimal
led = [json.loads(l, parse_float=Decimal) for p in sorted(glob.glob('ledger/*.jsonl'))
       for l in open(p) if l.strip()]
paid = [l for l in led if l.get('kind') not in ('reserve', 'settle')]
settle = [l for l in led if l.get('kind') == 'settle']
assert len(paid) == 4, [(l['scene_id'], l['status']) for l in paid]
removed = [l for l in paid if l['status'] == 'ROW_REMOVED']
assert len(removed) == 1 and removed[0]['scene_id'] == 'ROW-004', removed
assert removed[0]['images'] == 0 and removed[0]['cost'] > 0, removed
assert all(l.get('reservation') == 'removed/batch/c1' for l in paid), paid
assert len(settle) == 1 and settle[0]['settled'] == sum(l['cost'] for l in paid), (settle, paid)
print(sum(l['cost'] for l in paid))
PY
expect_exit 0 ag ledger verify ledger --out out
ag ledger sum ledger >sum.txt 2>&1
echo "ok: a row removed while its batch ran is charged (ROW_REMOVED), not stored"
