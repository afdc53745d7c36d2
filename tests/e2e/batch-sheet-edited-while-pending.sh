#!/usr/bin/env bash
# The hourly cron recipe (`run --tier batch --no-wait`, no --job-id: the job id is a hash of the
# input) while someone edits one cell of the sheet and the first batch is still pending. The
# next run is a new job; it would send every row again in a second batch (Google bills both)
# and leave the first batch uncollected. It is refused (exit 78) naming the old job, its batch,
# the money it holds and some of the rows, and the fake saw one batch create; a standard-tier
# run of the edited sheet is refused too and sends nothing. The suggested collect command
# (`--tier batch --job-id <old job>`, with the edited sheet) then charges every billed result
# once — the edited row's old result as ROW_CHANGED, not stored as its image — and sends the
# edited row again: `ledger verify` is clean and each settle line adds up. Fails on a build
# without the check (the second run creates a second batch, the standard run makes the images),
# and on one that stores the old prompt's image as the edited row's (one create, no ROW_CHANGED).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"

start_batch_fake
one_variant_batch rows.csv 4
live=(--mode live --api-base "$base" --daily-budget-usd 100 --quiet)
cron=(ag run rows.csv "${live[@]}" --tier batch --no-wait)

batch_knob '{"schedule":["PENDING","SUCCEEDED"],"hold":true}'
expect_exit 75 "${cron[@]}"
old=$(ls out)
[ -n "$old" ] && [ "$(ls out | wc -l)" -eq 1 ] || fail "one job folder in out/, got: $(ls out)"

sed -i 's/product on clean bg #2/product on a red bg #2/' rows.csv  # one cell edited
grep -q 'red bg' rows.csv || fail "the edit"

expect_exit 78 "${cron[@]}"
assert_contains err.txt "job $old"
assert_contains err.txt "assetgen-$old-c1"
assert_contains err.txt "ROW-001"
assert_contains err.txt "--tier batch --job-id $old"
assert_contains err.txt "--cancel"
assert_contains err.txt "Nothing was sent"
batch_counters c.json
python3 -c 'import json; c = json.load(open("c.json")); assert c["creates"] == 1, c' ||
  fail "the edited sheet's run created a second batch beside the pending one"

# The same sheet at the standard tier: refused, no generateContent.
expect_exit 78 ag run rows.csv "${live[@]}" --tier standard
assert_contains err.txt "assetgen-$old-c1"
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; n = json.load(open("stats.json"))["requests"]; assert n == 0, n' ||
  fail "the standard run sent requests while another job's batch was pending over its rows"
[ "$(find out -name '*.png' | wc -l)" -eq 0 ] || fail "images made beside the pending batch"

# A run writing elsewhere (another --out) holds none of the old batch's images: not refused.
expect_exit 0 ag run rows.csv "${live[@]}" --out elsewhere
assert_eq "$(check_pngs elsewhere)" 4 "valid PNGs in the other --out"

# The suggested collect, with the edited sheet: every billed result of the old batch charged
# once; the edited row's result (made from the old prompt) is charged as ROW_CHANGED, not stored
# as the edited row's image, and the edited row goes in a batch of its own (c2).
batch_knob '{"hold":false}'
expect_exit 0 ag run rows.csv "${live[@]}" --tier batch --poll-every 0s --job-id "$old"
python3 - "$old" <<'PY' || fail "the ledger and manifest of the collected job"
import glob, json, sys
from decimal import Decimal
old = sys.argv[1]
led = [json.loads(l, parse_float=Decimal) for p in sorted(glob.glob('ledger/*.jsonl'))
       for l in open(p) if l.strip()]
mine = [l for l in led if l['jobId'] == old]
paid = [l for l in mine if l.get('kind') not in ('reserve', 'settle')]
settle = {l['reservation']: l['settled'] for l in mine if l.get('kind') == 'settle'}
c1 = [l for l in paid if l['reservation'] == old + '/batch/c1']
c2 = [l for l in paid if l['reservation'] == old + '/batch/c2']
assert sorted((l['scene_id'], l['status']) for l in c1) == [
    ('ROW-001', 'ok'), ('ROW-002', 'ROW_CHANGED'), ('ROW-003', 'ok'), ('ROW-004', 'ok')], c1
assert all(l['cost'] > 0 for l in paid), paid
assert [l['images'] for l in c1 if l['status'] == 'ROW_CHANGED'] == [0], c1
assert [(l['scene_id'], l['status'], l['prompt']) for l in c2] == [
    ('ROW-002', 'ok', 'product on a red bg #2')], c2
for r, lines in ((old + '/batch/c1', c1), (old + '/batch/c2', c2)):
    assert settle.get(r) == sum(l['cost'] for l in lines), (r, settle, lines)
man = [json.loads(l) for l in open('out/%s/manifest.jsonl' % old)]
assert sorted(m['scene_id'] for m in man) == ['ROW-001', 'ROW-002', 'ROW-003', 'ROW-004'], man
assert [m['reservation'] for m in man if m['scene_id'] == 'ROW-002'] == [old + '/batch/c2'], man
PY
assert_eq "$(check_pngs "out/$old")" 4 "valid PNGs of the collected job"
expect_exit 0 ag ledger verify ledger --out out
batch_counters c.json
python3 -c 'import json, sys; c = json.load(open("c.json")); assert c["creates"] == 2 and c["by_display_name"] == {"assetgen-%s-c1" % sys.argv[1]: 1, "assetgen-%s-c2" % sys.argv[1]: 1}, c' "$old" ||
  fail "batches created: the old one and one for the edited row"
echo "ok: an edited sheet's run is refused while the old job's batch is pending; the old job collects"
