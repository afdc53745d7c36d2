#!/usr/bin/env bash
# Today's ledger day file is a symbolic link to a file outside the ledger folder:
#   1. the run is refused with STORAGE_IO (exit 74) naming the day file and the fix, before any
#      image is made; the sentinel folder is unchanged (checksum).
#   2. ASSETGEN_FOLLOW_SYMLINKS=1 (the flag's environment form) writes through the link.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/files-common.inc"

make_sentinel
printf 'scene_id,prompt,variants\nSC-1,a red cube,2\n' >b.csv
mkdir -p ledger
day=$(date -u +%F)
ln -s "$T/sentinel/empty.jsonl" "ledger/$day.jsonl"

# 1. Refused.
expect_exit 74 ag run b.csv --job-id j1
assert_contains err.txt "ledger/$day.jsonl: is a symbolic link below \"ledger\""
assert_contains err.txt '--follow-symlinks'
assert_sentinel_untouched
[ -z "$(find out -name '*.png' 2>/dev/null)" ] || fail "images were made although the ledger was refused"

# 2. Followed when asked (environment).
ASSETGEN_FOLLOW_SYMLINKS=1 expect_exit 0 ag run b.csv --job-id j1
assert_eq "$(count_lines sentinel/empty.jsonl)" 2 "ledger lines written through the link"
echo "ok: a symlinked ledger day file is refused, and followed with ASSETGEN_FOLLOW_SYMLINKS=1"
