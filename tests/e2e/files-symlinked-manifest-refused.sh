#!/usr/bin/env bash
# A job's manifest.jsonl is a symbolic link to a file outside --out:
#   1. the run is refused with STORAGE_IO (exit 74) naming the manifest and the fix, before any
#      image is made or any ledger line written; the sentinel folder is unchanged (checksum).
#   2. follow-symlinks = true in assetgen.toml (the config form) writes through the link.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/files-common.inc"

make_sentinel
printf 'scene_id,prompt,variants\nSC-1,a red cube,1\nSC-2,a blue cube,1\n' >b.csv
mkdir -p out/j1
ln -s "$T/sentinel/empty.jsonl" out/j1/manifest.jsonl

# 1. Refused.
expect_exit 74 ag run b.csv --job-id j1
assert_contains err.txt 'out/j1/manifest.jsonl: is a symbolic link below "out"'
assert_contains err.txt '--follow-symlinks'
assert_sentinel_untouched
[ -z "$(find out -name '*.png')" ] || fail "images were made although the manifest was refused"
[ -z "$(cat ledger/*.jsonl 2>/dev/null)" ] || fail "ledger lines were written"

# 2. Followed when the config file asks.
printf 'follow-symlinks = true\n' >assetgen.toml
expect_exit 0 ag run b.csv --job-id j1
assert_eq "$(count_lines sentinel/empty.jsonl)" 2 "manifest lines written through the link"
echo "ok: a symlinked manifest is refused, and followed with follow-symlinks = true"
