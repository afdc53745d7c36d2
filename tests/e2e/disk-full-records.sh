#!/usr/bin/env bash
# A full disk (ENOSPC, a write cut short) or a failing fsync (EIO) while a run writes an image,
# the job manifest, the ledger or summary.json, injected by an LD_PRELOAD fault layer
# (fault_write.c) into the real binary. Each time: exit 74, stderr names the file and says to
# run the same command again; no torn fragment is left in the manifest or the ledger; the same
# command afterwards finishes the job with each image once in the manifest and once in the
# ledger, `ledger verify` clean, and no request charged twice (the paid lines are the images
# plus, where an image was lost before its manifest line, that one request).
source "$(dirname "$0")/common.inc"

command -v cc >/dev/null || { echo "skip: no C compiler (cc) to build the fault layer"; exit 77; }
cc -shared -fPIC -O1 -o fault.so "$ASSETGEN_SOURCE_DIR/tests/e2e/fault_write.c" -ldl \
  || fail "the fault layer does not build"
# An ASan build must accept a preloaded library ahead of its runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

ag seed --rows 4 >b.csv 2>/dev/null  # 1, 2, 3, 1 variants
total=7
run() { ag run b.csv --job-id j --concurrency 1 "$@"; }
faulty() {  # FAULT_OP FAULT_MATCH FAULT_SKIP, then run's arguments
  local op=$1 match=$2 skip=$3; shift 3
  LD_PRELOAD="$T/fault.so" FAULT_OP=$op FAULT_MATCH=$match FAULT_SKIP=$skip run "$@"
}
# $1: what; $2: paid requests expected in the ledger (lines with a cost).
check_finished() {
  [ -n "$2" ] || fail "$1: the records after the faulty run are not what they should be"
  expect_exit 0 run
  python3 - "$total" "$2" <<'PY' || fail "$1: after the run that finished the job"
import json, glob, sys
total, paid = int(sys.argv[1]), int(sys.argv[2])
man = [json.loads(l) for l in open('out/j/manifest.jsonl')]  # a fragment would not parse
keys = [(m['scene_id'], m['variant']) for m in man]
assert len(keys) == len(set(keys)) == total, ('manifest', keys)
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p)]
ok = [(l['scene_id'], l['variant']) for l in led if l['status'] == 'ok']
assert len(ok) == len(set(ok)) == total, ('ok lines', ok)
ids = [l['id'] for l in led]
assert len(ids) == len(set(ids)), 'a ledger id twice'
charged = [l for l in led if float(l['cost']) > 0]
assert len(charged) == paid, ('paid lines', len(charged), paid, [(l['scene_id'], l['variant'], l['status']) for l in led])
PY
  expect_exit 0 ag ledger verify ledger
  expect_exit 0 run
  assert_contains err.txt "$total images ($total already done)"
}
fresh() { rm -rf out ledger; }
# After a faulty run: the paid lines the run that finishes the job must leave. Each image is
# charged once for each request that paid for it: the charged lines already written, plus the
# lines the next run restores (manifest lines without their ledger line), plus one request for
# each image with neither (made again). An image with its ok ledger line but no manifest line
# (its group failed) is adopted by the next run, not paid again. With group commit a failed
# group may hold more than one image, so the count is read from the records, not assumed.
paid_after() { python3 - "$total" <<'PY'
import json, glob, sys
total = int(sys.argv[1])
man = {(m['scene_id'], m['variant']) for m in map(json.loads, open('out/j/manifest.jsonl'))}
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p)]
ok = {(l['scene_id'], l['variant']) for l in led if l['status'] == 'ok'}
charged = sum(1 for l in led if float(l['cost']) > 0)
twice = [l['scene_id'] for l in led if l['status'] != 'ok' and float(l['cost']) > 0
         and (l['scene_id'], l['variant']) in man]
assert not twice, ('an image in the manifest is charged by a failure line too', twice)
print(charged + len(man - ok) + (total - len(man | ok)))
PY
}
hint="run the same command again"

# 1. The image's file (BATCH-002's folder): the paid image is lost; its failure line charges
#    that request, and the next run makes it again (one more request, charged once).
fresh
expect_exit 74 faulty write /BATCH-002/ 0
assert_contains err.txt "BATCH-002"
assert_contains err.txt "No space left on device"
assert_contains err.txt "$hint"
check_finished "image write" "$(paid_after)"

# 2. The manifest's second write (a group commit's lines; cut short, then ENOSPC): its lines are
#    not in the manifest (no fragment left), charged by their ok ledger lines (written before),
#    adopted by the next run from those lines (their files are whole). (20 ms per image: the
#    first group starts with the first image, later ones follow, so there is a second write.)
fresh
expect_exit 74 faulty write manifest.jsonl 1 --simulate latency=20ms
assert_contains err.txt "out/j/manifest.jsonl: append failed: No space left on device"
assert_contains err.txt "$hint"
python3 -c 'import json; [json.loads(l) for l in open("out/j/manifest.jsonl")]' \
  || fail "a torn manifest fragment was left"
[ "$(count_lines out/j/manifest.jsonl)" -lt "$total" ] || fail "manifest: every line written"
check_finished "manifest append" "$(paid_after)"

# 3. The manifest's second fsync fails (EIO): its group's lines are in the file, so each is
#    charged once, by its own ledger line, never by a failure line as well.
fresh
expect_exit 74 faulty fsync manifest.jsonl 1 --simulate latency=20ms
assert_contains err.txt "out/j/manifest.jsonl: fsync failed"
assert_contains err.txt "$hint"
check_finished "manifest fsync" "$(paid_after)"

# 4. The ledger line of the third image (cut short, then ENOSPC): no fragment in the ledger;
#    its manifest line is durable, so the next run writes the line back, once.
fresh
expect_exit 74 faulty write ledger/2 2
assert_contains err.txt "append failed: No space left on device"
python3 -c 'import json, glob; [json.loads(l) for p in glob.glob("ledger/*.jsonl") for l in open(p)]' \
  || fail "a torn ledger fragment was left"
check_finished "ledger append" "$(paid_after)"
assert_contains err.txt "$total images ($total already done)"

# 5. summary.json (every image made and recorded): exit 74, and the next run pays nothing.
fresh
expect_exit 74 faulty write summary.json 0
assert_contains err.txt "summary.json"
assert_contains err.txt "$hint"
check_finished "summary write" "$total"
[ -s out/j/summary.json ] || fail "no summary after the run that finished"
echo "ok: ENOSPC at image, manifest, ledger and summary, and a failing manifest fsync: exit 74, no fragment, each image charged once"
