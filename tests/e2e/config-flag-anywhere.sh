#!/usr/bin/env bash
# --config is the program's option, and may be written before or after the subcommand:
#   1. `assetgen run --config f.toml b.csv` and `assetgen run b.csv --config=f.toml` use the file
#      (its out folder is where the images go) as `assetgen --config f.toml run b.csv` does;
#   2. a mistake in the file is reported the same way (78, file:line) wherever --config is;
#   3. a missing file is a usage error (2) naming --config in either place;
#   4. after `--` it is an argument, not the option (the file is not read).
#   5. `ledger sum --config f.toml` is accepted too.
source "$(dirname "$0")/common.inc"
one_variant_batch b.csv 2
printf 'out = "from-config"\nledger = "led"\n' >f.toml

expect_exit 0 ag --config f.toml run b.csv --job-id j1
[ -d from-config/j1 ] || fail "--config before run: no from-config/j1"
expect_exit 0 ag run --config f.toml b.csv --job-id j2
[ -d from-config/j2 ] || fail "run --config f.toml b.csv: no from-config/j2"
expect_exit 0 ag run b.csv --job-id j3 --config=f.toml
[ -d from-config/j3 ] || fail "run b.csv --config=f.toml: no from-config/j3"
[ ! -e out ] || fail "a run with --config after run wrote to ./out"
assert_eq "$(ls led/*.jsonl | wc -l)" 1 "day files in the config's ledger"

printf 'concurrency = 0\n' >bad.toml
expect_exit 78 ag run b.csv --config bad.toml
assert_contains err.txt 'bad.toml:1: --concurrency'

expect_exit 2 ag run b.csv --config missing.toml
assert_contains err.txt '--config: "missing.toml": no such file'

# (what CLI11 then makes of the words after -- is its own affair: only the file is checked)
set +e; ag run b.csv --job-id j4 -- --config f.toml >out.txt 2>err.txt; set -e
[ ! -e from-config/j4 ] || fail "--config after -- was read as the option"

expect_exit 0 ag ledger sum led --config f.toml
grep -qE '^TOTAL +6 +6 ' out.txt || fail "ledger sum of the three runs: $(cat out.txt)"
echo "ok: --config works before and after the subcommand, with the same errors"
