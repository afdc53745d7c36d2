#!/usr/bin/env bash
# Temp files that an atomic write leaves when its process is killed (SIGKILL between create and
# rename: "<name>.tmp.<pid>.<n>") are removed by the next run of the job, in the job folder, its
# scene folders and the ledger folder (with .budget/). Nothing else is touched: files named like
# temp files of a process still running, files not named by the pattern, the images and the
# ledger stay, and a link in the job folder is not followed (the sentinel folder it points to,
# which holds an orphan-named file, keeps its checksum).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/files-common.inc"

printf 'scene_id,prompt,variants\nSC-1,a red cube,1\nSC-2,a blue cube,1\n' >b.csv
expect_exit 0 ag run b.csv --job-id j1

# A killed writer's leftovers: the pid of a process that has exited, a time before the next run.
sh -c 'exit 0' & dead=$!; wait "$dead"
old=$(date -d '-1 hour' '+%Y%m%d%H%M.%S')
make_sentinel_with_orphan() { mkdir -p sentinel; printf 'x' >"sentinel/o.png.tmp.$dead.0"; touch -t "$old" "sentinel/o.png.tmp.$dead.0"; }
make_sentinel_with_orphan
make_sentinel
orphans=(out/j1/SC-1/SC-1_v1.png.tmp.$dead.0 out/j1/state.json.tmp.$dead.3
         ledger/.budget/e2e.dry_run.jsonl.tmp.$dead.1 ledger/2026-01-01.jsonl.tmp.$dead.7)
for f in "${orphans[@]}"; do mkdir -p "$(dirname "$f")"; printf 'half a write' >"$f"; touch -t "$old" "$f"; done
keep=(out/j1/SC-2/SC-2_v1.png.tmp.$$.0 out/j1/notes.tmp out/j1/SC-1/mine.tmp.1 ledger/README.tmp)
for f in "${keep[@]}"; do printf 'not an orphan' >"$f"; touch -t "$old" "$f"; done
ln -s "$T/sentinel" out/j1/link-out
images_before=$(cd out && find . -name '*.png' -exec sha256sum {} + | LC_ALL=C sort | sha256sum)
ledger_before=$(cat ledger/*.jsonl | sha256sum)

expect_exit 0 ag run b.csv --job-id j1
for f in "${orphans[@]}"; do [ ! -e "$f" ] || fail "orphan $f was not removed"; done
for f in "${keep[@]}"; do [ -f "$f" ] || fail "$f was removed"; done
assert_eq "$(cd out && find . -name '*.png' -exec sha256sum {} + | LC_ALL=C sort | sha256sum)" "$images_before" "images"
assert_eq "$(cat ledger/*.jsonl | sha256sum)" "$ledger_before" "ledger (a finished job re-run adds nothing)"
assert_sentinel_untouched
echo "ok: orphaned temp files of the job and the ledger are removed, nothing else"
