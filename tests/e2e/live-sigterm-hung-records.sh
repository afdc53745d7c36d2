#!/usr/bin/env bash
# SIGTERM in a live run whose requests hang past --grace: the hung requests are abandoned, and the
# run still writes summary.json, the results and the metrics for what finished, says on stderr how
# many requests were abandoned and on which rows, and exits 143 soon after the grace ran out.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --hang-seconds 600
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
cat >b.csv <<'CSV'
scene_id,prompt,variants
A,a cup,1
STUCK1,a vase [fault:hang],1
B,a pen,1
STUCK2,a bowl [fault:hang],1
C,a book,1
CSV
"$ASSETGEN" run b.csv --mode live --api-base "$base" --concurrency 5 --grace 1s --results results.csv \
  --metrics-file metrics.prom --json >run.out 2>run.err &
pid=$!
cleanup_pids+=("$pid")
for _ in $(seq 1 200); do  # the three quick rows are made; the two others hang
  [ "$(cat out/*/manifest.jsonl 2>/dev/null | wc -l)" -ge 3 ] && break
  sleep 0.05
done
[ "$(cat out/*/manifest.jsonl | wc -l)" -eq 3 ] || fail "the quick rows were not made"
t0=$(date +%s.%N)
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
took=$(elapsed_since "$t0")
cat run.err
[ "$rc" -eq 143 ] || fail "exit $rc, expected 143"
python3 -c "import sys; sys.exit(0 if float('$took') < 8 else 1)" || fail "took ${took}s after SIGTERM"
assert_contains run.err '2 request(s) still in flight after --grace 1s were abandoned'
assert_contains run.err 'rows: b.csv:3, b.csv:5'
job=$(ls out)
python3 - "$job" <<'PY' || fail "records"
import csv, json, sys
job = sys.argv[1]
s = json.load(open('out/%s/summary.json' % job))
assert s['status'] == 'interrupted' and s['imagesGenerated'] == 3, s
assert json.load(open('run.out'))['imagesGenerated'] == 3
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
assert all(rows[k]['status'] == 'ok' for k in 'ABC'), rows
assert rows['STUCK1']['status'] != 'ok' and rows['STUCK2']['status'] != 'ok', rows
PY
assert_contains metrics.prom 'outcome="generated"} 3'
echo "ok: SIGTERM with 2 hung requests: exit 143 in ${took}s, summary, results and metrics written"
