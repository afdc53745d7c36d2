#!/usr/bin/env bash
# --out, --ledger and --spool-dir name folders. Given a file (the batch itself, a typo), the run
# said "b.csv: cannot list: Not a directory" (exit 74, a storage failure, no flag named, no fix).
# Now it is a usage error naming the flag and the fix, before anything is read or spent.
source "$(dirname "$0")/common.inc"
printf 'scene_id,prompt,variants\nA,hello,1\n' >b.csv
cp b.csv before.csv
for flag in --out --ledger --spool-dir; do
  expect_exit 2 ag run b.csv "$flag" b.csv -q
  assert_contains err.txt "$flag: \"b.csv\" is a file; give a folder (it is made when missing)"
done
expect_exit 2 ag run b.csv --ledger /dev/null -q
assert_contains err.txt '--ledger: "/dev/null" is not a folder'
# From the environment: the variable is named.
ASSETGEN_LEDGER=b.csv expect_exit 2 ag run b.csv -q
assert_contains err.txt "ASSETGEN_LEDGER"
cmp b.csv before.csv || fail "the batch was changed"
[ ! -e out ] && [ ! -e ledger ] || fail "a refused run made folders"
# A symlink to a folder is a folder.
mkdir real && ln -s real linked
expect_exit 0 ag run b.csv --ledger linked -q
[ "$(count_lines real/"$(date -u +%Y-%m-%d)".jsonl)" -eq 1 ] || fail "no ledger line through the linked folder"
echo ok
