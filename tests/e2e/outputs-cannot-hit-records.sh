#!/usr/bin/env bash
# Output paths cannot hit records: --results, --report, --metrics-file and --events onto today's
# ledger file, the job's manifest, the input (also through a symlinked folder or a hard link), a
# symlink, a device, the same path twice — each is exit 2 before anything is spent, naming the
# flag and what it would hit, and the record is unchanged. An empty --ledger, --out or
# --spool-dir is exit 2 too.
source "$(dirname "$0")/common.inc"

one_variant_batch batch.csv 4
expect_exit 0 ag run batch.csv --daily-budget-usd 10
job=$(ls out)
today=ledger/$(date -u +%F).jsonl
[ -s "$today" ] || fail "no ledger file for today"
fingerprint() { sha256sum batch.csv "$today" "out/$job/manifest.jsonl" | sha256sum; }
before=$(fingerprint)
# refused FLAG VALUE EXPECTED-TEXT
refused() {
  expect_exit 2 ag run batch.csv --daily-budget-usd 10 "$1" "$2"
  assert_contains err.txt "$1: \"$2\" $3"
  [ "$(fingerprint)" = "$before" ] || fail "$1 $2 changed a record"
}
refused --results "$today" "is inside the ledger folder (ledger)"
refused --report "out/$job/manifest.jsonl" "is inside the job folder (out/$job)"
refused --metrics-file "out/$job/state.json" "is inside the job folder"
refused --results batch.csv "is the input batch (batch.csv)"
refused --events batch.csv "is the input batch (batch.csv)"
mkdir elsewhere
ln -s ../ledger elsewhere/ledger-link
refused --results "elsewhere/ledger-link/$(basename "$today")" "is inside the ledger folder"
ln batch.csv hard-link.csv
refused --report hard-link.csv "is the input batch"
ln -s results-target.csv link.csv
refused --results link.csv "is a symbolic link, not a regular file"
refused --metrics-file /dev/null "is a device, not a regular file"
mkfifo events.fifo
refused --events events.fifo "is a FIFO, not a regular file"
expect_exit 2 ag run batch.csv --daily-budget-usd 10 --results same.csv --report same.csv
assert_contains err.txt '--report: "same.csv" is also given to --results'
[ ! -e results-target.csv ] && [ ! -e same.csv ] || fail "a refused run wrote an output"

# Empty folders are usage errors, not the filesystem root or the current folder.
for flag in --ledger --out --spool-dir; do
  expect_exit 2 ag run batch.csv --daily-budget-usd 10 "$flag" ''
  assert_contains err.txt "$flag"
  assert_contains err.txt "is empty; give a folder"
done
[ "$(fingerprint)" = "$before" ] || fail "a refused run changed a record"

# Outputs beside the records are fine: the results below --out (not in the job folder).
expect_exit 0 ag run batch.csv --daily-budget-usd 10 --results out/results.csv --events -
[ "$(count_lines out/results.csv)" -eq 5 ] || fail "results below --out"
echo "ok: outputs onto records are refused before anything is spent"
