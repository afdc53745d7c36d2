#!/usr/bin/env bash
# A config file's mistakes are configuration errors (78) naming file:line, whether the line does not
# parse (an unterminated string) or its value is wrong; a wrong value from the environment is a
# usage error (2) naming the variable. Nothing is made either way.
source "$(dirname "$0")/common.inc"

ag seed --rows 3 >b.csv
nothing_made() { [ ! -e out ] && [ ! -e ledger ] && [ ! -e 'out"' ] || fail "$1: something was made"; }

printf '# settings\nconcurrency = 2\nout = "unterminated\n' >a.toml
expect_exit 78 ag --config a.toml run b.csv
assert_contains err.txt 'a.toml:3: unterminated string'
nothing_made unterminated

printf 'out = "o" # a comment is fine\n[run]\nconcurrency = 0\n' >b.toml
expect_exit 78 ag --config b.toml run b.csv
assert_contains err.txt 'b.toml:3: --concurrency'
nothing_made range

printf 'grace = "-1s"\n' >c.toml
expect_exit 78 ag --config c.toml run b.csv
assert_contains err.txt 'c.toml:1: --grace'
nothing_made duration

printf 'out = "ab\xff"\n' >d.toml
expect_exit 78 ag --config d.toml run b.csv
assert_contains err.txt 'd.toml:1: --out: "ab\xFF" is not valid UTF-8'
nothing_made utf8

printf 'colour = "blue"\n' >e.toml
expect_exit 78 ag --config e.toml run b.csv
assert_contains err.txt 'e.toml:1: unknown option "colour"'

# The environment: the variable is named, exit 2.
ASSETGEN_GRACE=-1s expect_exit 2 ag run b.csv
assert_contains err.txt 'ASSETGEN_GRACE: --grace'
ASSETGEN_CONCURRENCY=0 expect_exit 2 ag run b.csv
assert_contains err.txt 'ASSETGEN_CONCURRENCY: --concurrency'
ASSETGEN_DAILY_BUDGET_USD=nan expect_exit 2 ag run b.csv
assert_contains err.txt 'ASSETGEN_DAILY_BUDGET_USD: --daily-budget-usd'
nothing_made env
echo "ok: config file errors exit 78 with file:line, environment errors exit 2 naming the variable"
