#!/usr/bin/env bash
# A run SIGKILLed inside the group-commit window (durable_log.hpp): its images were paid for and
# stored, but the group that writes their manifest lines never finished. Every request the
# Gemini fake billed must be in the ledger exactly once, and the same command afterwards must
# not pay again for an image already whole on disk: it adopts it (README "Resuming").
# The kill lands at an exact point: an LD_PRELOAD fault layer (fault_write.c, FAULT_OP=stall)
# blocks the run's first write to the manifest for good, after the images were stored.
source "$(dirname "$0")/common.inc"

command -v cc >/dev/null || { echo "skip: no C compiler (cc) to build the fault layer"; exit 77; }
cc -shared -fPIC -O1 -o fault.so "$ASSETGEN_SOURCE_DIR/tests/e2e/fault_write.c" -ldl \
  || fail "the fault layer does not build"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 1
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
ag seed --rows 4 >b.csv 2>/dev/null  # 1, 2, 3, 1 variants
total=7
run() { ag run b.csv --job-id j --concurrency 2 --mode live --api-base "$base" "$@"; }
billed() {
  fake_get "$base/_fake/stats" stats.json
  python3 -c 'import json; print(json.load(open("stats.json"))["by_status"].get("200", 0))'
}
paid_lines() { cat ledger/*.jsonl 2>/dev/null | python3 -c 'import json, sys
print(sum(1 for l in sys.stdin if l.strip() and float(json.loads(l)["cost"]) > 0))'; }

LD_PRELOAD="$T/fault.so" FAULT_OP=stall FAULT_MATCH=/manifest.jsonl FAULT_STALLED="$T/stalled" \
  "$ASSETGEN" run b.csv --job-id j --concurrency 2 --mode live --api-base "$base" \
  >out1.txt 2>err1.txt &
pid=$!  # the binary itself, so that the kill reaches it
cleanup_pids+=("$pid")
# The first group blocks in its manifest write; the workers go on (they do not wait for their
# group) until every image was answered. Then the run waits for its groups: it is killed once
# every billed request has what this run writes for it before its group (at most 20 s: a run
# that writes nothing then is killed anyway, and the checks below fail).
deadline=$(($(date +%s) + 20))
while [ "$(date +%s)" -lt "$deadline" ]; do
  if [ -f stalled ] && [ "$(billed)" = "$total" ] && [ "$(paid_lines)" = "$total" ]; then
    break
  fi
  kill -0 "$pid" 2>/dev/null || { cat err1.txt >&2; fail "the stalled run ended by itself"; }
  sleep 0.05
done
[ -f stalled ] || fail "the run never wrote its manifest (no stall)"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
assert_eq "$(billed)" "$total" "requests billed before the kill"
[ ! -s out/j/manifest.jsonl ] || fail "the stalled group's manifest lines were written"
assert_eq "$(paid_lines)" "$total" "paid ledger lines right after the kill (each billed request)"

# The same command: nothing is paid again, every image adopted from its ledger line.
expect_exit 0 run
assert_contains err.txt "adopted $total image(s)"
assert_contains err.txt "was already finished: nothing to do, nothing spent"
assert_eq "$(billed)" "$total" "requests billed after the resuming run"
python3 - "$total" <<'PY' || fail "the records after the resuming run"
import glob, hashlib, json, sys
total = int(sys.argv[1])
man = [json.loads(l) for l in open('out/j/manifest.jsonl')]
keys = [(m['scene_id'], m['variant']) for m in man]
assert len(keys) == len(set(keys)) == total, ('manifest', keys)
for m in man:  # each adopted line names its whole file
    data = open(m['uri'], 'rb').read()
    assert hashlib.sha256(data).hexdigest() == m['sha256'] and len(data) == m['bytes'], m['uri']
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p)]
paid = [l for l in led if float(l['cost']) > 0]
assert len(paid) == total, ('paid lines', len(paid))
ok = [(l['scene_id'], l['variant']) for l in led if l['status'] == 'ok']
assert len(ok) == len(set(ok)) == total, ('ok lines', ok)
assert {l['id'] for l in led} == {m['ledger_id'] for m in man}, 'ledger ids vs manifest'
PY
expect_exit 0 ag ledger verify ledger
echo "ok: killed in the commit window, $total billed requests, each charged once, none paid twice"
