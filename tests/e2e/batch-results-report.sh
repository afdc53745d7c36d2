#!/usr/bin/env bash
# A batch run's rows in --results and --report, as a synchronous run's are. (1) --no-wait while
# the batch is pending: exit 75, every row in results.csv as "pending" (no image, no cost yet),
# one "pending" card per image in the report. (2) Collected: each row "ok" with its image's URI
# and its cost at the batch price (the ledger's), a request that failed inside the batch "failed"
# with its code; the report has a card per image with the same statuses. (3) Re-run with
# --retry-failed --retry-tier standard: the row made now is "ok" at the standard price, the others
# "ok" (made by the earlier run, with their URIs and costs); the refused one is refused again.
source "$(dirname "$0")/common.inc"
source "$(dirname "$0")/batch-common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20

start_batch_fake --batch-schedule PENDING,RUNNING,SUCCEEDED
cat >b.csv <<'CSV'
scene_id,prompt,variants,note
A,a red fox,1,first
B,a blue fox,2,second
C,a green fox [fault:image-safety],1,third
CSV
batch_knob '{"errors":{"rr/B/2":{"code":500,"status":"INTERNAL","message":"Internal error encountered."}}}'
run_it() { ag run b.csv --mode live --api-base "$base" --tier batch --poll-every 0s --job-id rr \
  --results results.csv --report report.html "$@"; }

# (1) Pending.
batch_knob '{"hold":true}'
expect_exit 75 run_it --no-wait
python3 - <<'PY' || fail "results while the batch is pending"
import csv
rows = list(csv.DictReader(open('results.csv')))
assert [r['scene_id'] for r in rows] == ['A', 'B', 'C'], rows
assert all(r['status'] == 'pending' and r['images'] == '' and r['cost_usd'] == '0.000000'
           for r in rows), rows
assert [r['note'] for r in rows] == ['first', 'second', 'third'], rows
html = open('report.html').read()
assert html.count('class="card status-pending"') == 4, html.count('class="card status-pending"')
PY

# (2) Collected.
batch_knob '{"hold":false}'
expect_exit 1 run_it
python3 - <<'PY' || fail "results once the batch is collected"
import csv, glob, json
from decimal import Decimal
led = [json.loads(l, parse_float=Decimal) for p in glob.glob('ledger/*.jsonl') for l in open(p)
       if l.strip()]
cost = {}
for l in led:
    if l.get('kind') not in ('reserve', 'settle'):
        cost[l['scene_id']] = cost.get(l['scene_id'], Decimal(0)) + Decimal(str(l['cost']))
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
a, b, c = rows['A'], rows['B'], rows['C']
assert a['status'] == 'ok' and a['images'] == 'out/rr/A/A_v1.png' and a['error_code'] == '', a
assert Decimal(a['cost_usd']) == cost['A'] > 0, (a, cost)
assert b['status'] == 'partial' and b['images'] == 'out/rr/B/B_v1.png', b
assert b['error_code'] == 'MODEL_UNAVAILABLE' or b['error_code'].startswith('MODEL_'), b
assert Decimal(b['cost_usd']) == cost['B'], (b, cost)
assert c['status'] == 'blocked' and c['error_code'] == 'BLOCKED' and c['images'] == '', c
assert Decimal(c['cost_usd']) == cost['C'], (c, cost)   # a billed refusal
html = open('report.html').read()
for status, n in (('ok', 2), ('failed', 1), ('blocked', 1)):
    assert html.count('class="card status-%s"' % status) == n, (status, html.count('class="card status-%s"' % status))
assert 'status-pending' not in html
PY

# (3) The failed request made again at the standard tier.
expect_exit 1 run_it --retry-failed --retry-tier standard
python3 - <<'PY' || fail "results after the synchronous retry"
import csv, glob, json
from decimal import Decimal
led = [json.loads(l, parse_float=Decimal) for p in glob.glob('ledger/*.jsonl') for l in open(p)
       if l.strip()]
std = [l for l in led if l.get('tier', 'standard') == 'standard' and not l.get('kind')]
assert sorted((l['scene_id'], l['variant'], l['status']) for l in std) == \
    [('B', 2, 'ok'), ('C', 1, 'BLOCKED')], std
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
b = rows['B']
assert b['status'] == 'ok' and b['images'] == 'out/rr/B/B_v1.png out/rr/B/B_v2.png', b
paid_b = sum(Decimal(str(l['cost'])) for l in led if l['scene_id'] == 'B' and not l.get('kind')
             and l['status'] == 'ok')
assert Decimal(b['cost_usd']) == paid_b, (b, paid_b)
assert rows['A']['status'] == 'ok' and rows['A']['images'] == 'out/rr/A/A_v1.png', rows['A']
assert rows['C']['status'] == 'blocked', rows['C']   # refused for safety again, at standard
PY
echo "ok: batch rows in --results and --report: pending, then ok/failed/blocked with URIs and costs, then the retry"
