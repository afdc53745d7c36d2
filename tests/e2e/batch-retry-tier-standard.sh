#!/usr/bin/env bash
# `--retry-failed --retry-tier standard`: the requests that failed inside a finished batch (the
# fake's per-key errors) are sent again synchronously, at the standard price, under the same daily
# budget. (1) A budget too small for them at the standard price refuses: exit 3, nothing sent.
# (2) Then they are made: exit 0, every image on disk once; the ledger has the collected lines at
# the batch price (half of a plain standard run's, to the micro-dollar) and the retried lines at
# the standard price (equal to that run's). (3) The same command again sends nothing. (4) A run
# killed mid-retry, then the same command: each image is made and paid once.
source "$(dirname "$0")/common.inc"
source "$(dirname "$0")/batch-common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20

start_batch_fake --batch-schedule RUNNING,SUCCEEDED --hang-seconds 600
# Prompts padded to a multiple of 16 characters: the half price is exact (batch-tier-half-price.sh).
cat >b.csv <<'CSV'
scene_id,prompt,variants
A,a red fox in snow xxxxxxxxxxxxxx,1
B,a blue fox in snow xxxxxxxxxxxxx,2
C,a green fox in snow xxxxxxxxxxxx,1
D,a grey fox in snow xxxxxxxxxxxxx,1
CSV
err500='{"code":500,"status":"INTERNAL","message":"Internal error encountered."}'
batch_knob "{\"errors\":{\"rt/B/2\":$err500,\"rt/C/1\":$err500}}"
run_it() { ag run b.csv --mode live --api-base "$base" --tier batch --poll-every 0s --job-id rt "$@"; }
requests() { fake_get "$base/_fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }

expect_exit 1 run_it
assert_contains err.txt 'b.csv:3: scene_id "B" v2'
assert_contains err.txt 'b.csv:4: scene_id "C" v1'
assert_eq "$(count_lines out/rt/manifest.jsonl)" 3 "images the batch made"

# (1) The two retries need $0.148 (worst case at the standard price); $0.099 is left.
expect_exit 3 run_it --retry-failed --retry-tier standard --daily-budget-usd 0.2
assert_contains err.txt '--retry-tier standard: the 2 request(s) that failed inside a batch need'
assert_contains err.txt 'nothing was sent'
assert_eq "$(requests)" 0 "synchronous requests after the refusal"
assert_eq "$(count_lines out/rt/manifest.jsonl)" 3 "images after the refusal"

# (2) Sent again at the standard tier.
expect_exit 0 run_it --retry-failed --retry-tier standard
assert_eq "$(requests)" 2 "synchronous requests of the retry"
check_pngs out >/dev/null
assert_eq "$(check_pngs out)" 5 "valid PNGs"
fake_get "$base/_fake/batches" batches.json
assert_eq "$(python3 -c 'import json; print(len(json.load(open("batches.json"))))')" 1 "batches (no new one)"

# The same rows in a plain standard run: the reference prices.
expect_exit 0 ag run b.csv --mode live --api-base "$base" --out ref/out --ledger ref/ledger
python3 - <<'PY' || fail "ledger lines and prices"
import glob, json
from decimal import Decimal
def lines(folder):
    return [json.loads(l, parse_float=Decimal) for p in sorted(glob.glob(folder + '/*.jsonl'))
            for l in open(p) if l.strip()]
def micros(d): return int(Decimal(str(d)) * 1_000_000)
ref = {(l['scene_id'], l['variant']): micros(l['cost']) for l in lines('ref/ledger')
       if l['status'] == 'ok'}
led = lines('ledger')
ok = [l for l in led if l.get('kind') not in ('reserve', 'settle') and l['status'] == 'ok']
got = {(l['scene_id'], l['variant']): (l.get('tier', 'standard'), micros(l['cost'])) for l in ok}
assert len(ok) == len(got) == 5, ('paid lines, one per image', len(ok), sorted(got))
for k in [('A', 1), ('B', 1), ('D', 1)]:
    assert got[k][0] == 'batch' and 2 * got[k][1] == ref[k], ('batch line', k, got[k], ref[k])
for k in [('B', 2), ('C', 1)]:
    assert got[k][0] == 'standard' and got[k][1] == ref[k], ('retried line', k, got[k], ref[k])
man = [json.loads(l) for l in open('out/rt/manifest.jsonl')]
assert sorted((m['scene_id'], m['variant']) for m in man) == sorted(got), man
print('ledger ok')
PY

# (3) Nothing left to do: nothing is sent.
n=$(cat ledger/*.jsonl | wc -l)
expect_exit 0 run_it --retry-failed --retry-tier standard
assert_eq "$(requests)" 7 "synchronous requests (2 retries + 5 of the reference run)"
assert_eq "$(cat ledger/*.jsonl | wc -l)" "$n" "ledger lines after a re-run"

# (4) Killed mid-retry. Three requests fail in the batch; the first synchronous one hangs while
# the other two are made; SIGKILL; the same command makes the hung one only.
cat >k.csv <<'CSV'
scene_id,prompt,variants
E,an owl at night xxxxxxxxxxxxxxxx,1
F,a cat at night xxxxxxxxxxxxxxxxx,1
G,a dog at night xxxxxxxxxxxxxxxxx,1
H,a bat at night xxxxxxxxxxxxxxxxx,1
CSV
batch_knob "{\"errors\":{\"rk/F/1\":$err500,\"rk/G/1\":$err500,\"rk/H/1\":$err500}}"
runk() { ag run k.csv --mode live --api-base "$base" --tier batch --poll-every 0s --job-id rk \
  --out kout --ledger kledger "$@"; }
expect_exit 1 runk
before=$(requests)
fake_post "$base/_fake/faults" '{"rules":[{"fault":"hang","first_n":1}]}'
"$ASSETGEN" run k.csv --mode live --api-base "$base" --tier batch --poll-every 0s --job-id rk \
  --out kout --ledger kledger --retry-failed --retry-tier standard --concurrency 2 \
  >bg.out 2>bg.err &
pid=$!
cleanup_pids+=("$pid")
for _ in $(seq 1 400); do  # E from the batch, two retries made, one hanging
  [ "$(count_lines kout/rk/manifest.jsonl)" -ge 3 ] && break
  kill -0 "$pid" 2>/dev/null || { cat bg.err >&2; fail "the retry ended before the kill"; }
  sleep 0.05
done
assert_eq "$(count_lines kout/rk/manifest.jsonl)" 3 "images before the kill"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
fake_post "$base/_fake/faults" '{"rules":[]}'
expect_exit 0 runk --retry-failed --retry-tier standard
assert_eq "$(( $(requests) - before ))" 4 "synchronous requests: 3 before the kill, 1 after"
assert_eq "$(check_pngs kout)" 4 "valid PNGs after the kill and the re-run"
python3 - <<'PY' || fail "each image paid once after the kill"
import glob, json
led = [json.loads(l) for p in glob.glob('kledger/*.jsonl') for l in open(p) if l.strip()]
ok = [l for l in led if l.get('kind') not in ('reserve', 'settle') and l['status'] == 'ok']
keys = sorted(l['scene_id'] for l in ok)
assert keys == ['E', 'F', 'G', 'H'], keys
assert [l.get('tier', 'standard') for l in sorted(ok, key=lambda l: l['scene_id'])] == \
    ['batch', 'standard', 'standard', 'standard'], ok
man = [json.loads(l)['scene_id'] for l in open('kout/rk/manifest.jsonl')]
assert sorted(man) == keys, man
PY
echo "ok: --retry-tier standard: refused when short (exit 3, nothing sent), then each failed request made once at the standard price"
