#!/usr/bin/env bash
# Every file of the bad-input corpus is refused with exit 65 and a message naming the row and
# column, and nothing is written under --out or --ledger.
source "$(dirname "$0")/common.inc"

corpus="$ASSETGEN_SOURCE_DIR/tests/data/bad"
n=0
while IFS=$'\t' read -r file expected; do
  [ -z "$file" ] || [ "${file:0:1}" = "#" ] && continue
  cp "$corpus/$file" "$file"
  expect_exit 65 ag run "$file" --out out --ledger ledger
  assert_contains err.txt "$expected"
  [ ! -e out ] && [ ! -e ledger ] || fail "$file: something was written"
  n=$((n + 1))
done <"$corpus/EXPECTED.tsv"
[ $n -ge 20 ] || fail "only $n bad inputs in the corpus"
echo "ok: $n bad inputs refused with exit 65, nothing written"
