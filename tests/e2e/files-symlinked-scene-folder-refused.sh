#!/usr/bin/env bash
# A scene folder below --out that is a symbolic link to a folder outside is not written through:
#   1. the image of that scene is refused with STORAGE_IO naming the row, the path and the fix
#      (--follow-symlinks), which stops the run (exit 74, as any storage failure); the sentinel
#      folder the link points to is unchanged (checksum); no temp file is left anywhere.
#   2. --follow-symlinks writes through the link, as the user asked.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/files-common.inc"

make_sentinel
printf 'scene_id,prompt,variants\nSC-1,a red cube,1\nSC-2,a blue cube,1\n' >b.csv
mkdir -p out/j1
ln -s "$T/sentinel" out/j1/SC-1

# 1. Refused.
expect_exit 74 ag run b.csv --job-id j1
assert_contains err.txt 'b.csv:2: STORAGE_IO: out/j1/SC-1: is a symbolic link below "out"'
assert_contains err.txt '--follow-symlinks'
assert_sentinel_untouched
[ -z "$(find . -name '*.tmp.*')" ] || fail "temp files left: $(find . -name '*.tmp.*')"

# 2. Followed when asked.
expect_exit 0 ag run b.csv --job-id j1 --follow-symlinks
[ -f sentinel/SC-1_v1.png ] || fail "--follow-symlinks did not write through the link"
echo "ok: a symlinked scene folder is refused, and followed with --follow-symlinks"
