#!/usr/bin/env bash
# Every flag of every subcommand, given a bad value (tests/data/bad-flags.tsv), is a usage error:
# exit 2 and a message naming the flag (or saying the bytes are not UTF-8), before anything is
# made: no out/ledger folder, no lock, nothing under $HOME. The command "(global)" is the options
# before any subcommand. A flag that --help lists without a row
# in the table fails the test, so a new flag must come with its bad value.
source "$(dirname "$0")/common.inc"

table="$ASSETGEN_SOURCE_DIR/tests/data/bad-flags.tsv"
export HOME="$T/home" XDG_STATE_HOME="$T/home/state" XDG_CACHE_HOME="$T/home/cache"
mkdir -p "$HOME"
ag seed --rows 3 >b.csv
printf '{"v":1}\n' >m.jsonl
: >covered.txt
n=0
while IFS=$'\t' read -r cmd flag args code fragment; do
  [ -z "$cmd$flag" ] || [ "${cmd:0:1}" = "#" ] && continue
  eval "set -- $args"
  expect_exit "$code" ag "$@"
  assert_contains err.txt "$fragment"
  grep -q 'this is a bug' err.txt && fail "$args: an internal error"
  # CLI11's own wording names no fix, misquotes the value ("1.000000") or shows its internals
  # ("Check fast value in {dry-run->0,...} FAILED"): ours quotes the value and says the fix.
  if grep -qE 'not in range|At Most|is not between|[0-9]\.[0-9]{6}"|Could not convert|for more information|not in \{|FAILED|not recognized' err.txt; then
    fail "$args: CLI11's message instead of one naming the flag, the value and the fix: $(cat err.txt)"
  fi
  for made in out ledger "$HOME"/*; do
    [ ! -e "$made" ] || fail "$args: $made was created"
  done
  echo "$cmd|$flag" >>covered.txt
  n=$((n + 1))
done < <(grep -v '^#' "$table")

# The ledger folder from the environment is named by its variable, as `run` names it.
ASSETGEN_LEDGER=gs:// expect_exit 2 ag ledger sum
assert_contains err.txt 'ASSETGEN_LEDGER: "gs://"'

# Every flag in every --help has a row.
missing=0
for cmd in "(global)" seed run canary "ledger show" "ledger sum" "ledger verify" "ledger compact" refresh models; do
  words=$cmd
  [ "$cmd" = "(global)" ] && words=""
  # shellcheck disable=SC2086
  ag $words --help >help.txt
  # The text check on every option is not part of its description.
  ! grep -q ':UTF-8' help.txt || fail "'$cmd --help' shows ':UTF-8' after its options"
  # shellcheck disable=SC2086
  for flag in $(ag $words --help | grep -oE '^ +(-[a-zA-Z], ?)?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+$'); do
    case "$flag" in --help | --version | --help-all) continue ;; esac
    if ! grep -qxF "$cmd|$flag" covered.txt; then
      echo "no row in bad-flags.tsv for '$cmd $flag'" >&2
      missing=$((missing + 1))
    fi
  done
done
[ "$missing" -eq 0 ] || fail "$missing flag(s) without a bad value in the table"
[ "$n" -ge 150 ] || fail "only $n rows"
echo "ok: $n bad flag values refused with their exit code and the flag named; every flag covered"
