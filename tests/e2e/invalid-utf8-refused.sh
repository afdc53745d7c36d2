#!/usr/bin/env bash
# A byte that breaks UTF-8 never reaches a JSON record as an internal error ("this is a bug"): in
# any value-taking option of run and canary, in any ASSETGEN_* variable, in $USER, in the input's
# file name, it is refused with exit 2 naming the flag or variable and "not valid UTF-8"; in a cell,
# with exit 65 naming the row. Nothing is made: no out/ledger folder, no lock, nothing under $HOME.
source "$(dirname "$0")/common.inc"

export HOME="$T/home" XDG_STATE_HOME="$T/home/state" XDG_CACHE_HOME="$T/home/cache"
mkdir -p "$HOME"
ag seed --rows 3 >b.csv
bad=$'x\xffy'
nothing_made() {
  for made in out ledger "$HOME"/*; do [ ! -e "$made" ] || fail "$1: $made was created"; done
  grep -q 'this is a bug' err.txt && fail "$1: an internal error" || true
}

n=0
for cmd in run canary; do
  # Every option that takes a value (its --help line shows a type after the name).
  for flag in $(ag $cmd --help | grep -oE '^ +(-[a-zA-Z], ?)?--[a-z0-9-]+ [A-Z]' | grep -oE -- '--[a-z0-9-]+'); do
    [ "$flag" = --config ] && continue
    expect_exit 2 ag $cmd b.csv "$flag" "$bad"
    assert_contains err.txt "$flag"
    assert_contains err.txt 'not valid UTF-8'
    nothing_made "$cmd $flag"
    n=$((n + 1))
    # The same value through the option's environment variable.
    var=ASSETGEN_$(echo "${flag#--}" | tr 'a-z-' 'A-Z_')
    env "$var=$bad" "$ASSETGEN" $cmd b.csv >out.txt 2>err.txt && fail "$var accepted" || rc=$?
    [ "$rc" -eq 2 ] || { cat err.txt >&2; fail "$var: exit $rc, expected 2"; }
    assert_contains err.txt "$var"
    assert_contains err.txt 'not valid UTF-8'
    nothing_made "$var"
    n=$((n + 1))
  done
done
[ "$n" -ge 100 ] || fail "only $n options checked"

# A variable that is no option's (read by the tool directly) is checked too.
ASSETGEN_IAM_ENDPOINT="$bad" expect_exit 2 ag run b.csv
assert_contains err.txt 'ASSETGEN_IAM_ENDPOINT: "x\xFFy" is not valid UTF-8'
nothing_made ASSETGEN_IAM_ENDPOINT

# $USER is the default --user.
(unset ASSETGEN_USER; USER="$bad" expect_exit 2 ag run b.csv)
assert_contains err.txt 'USER: "x\xFFy" is not valid UTF-8; give --user NAME'
nothing_made USER
(unset ASSETGEN_USER; USER="$bad" expect_exit 0 ag run b.csv --user alice --quiet)
rm -rf out ledger "$HOME"/*

# The input's file name.
cp b.csv "b$bad.csv"
expect_exit 2 ag run "b$bad.csv"
assert_contains err.txt 'not valid UTF-8'
nothing_made "file name"

# A cell: the reader names the row.
{ head -1 b.csv; sed -n 2p b.csv | sed "s/,/,$bad/"; } >c.csv
expect_exit 65 ag run c.csv
assert_contains err.txt 'c.csv:2'
nothing_made cell
echo "ok: $n option and variable values with a bad byte refused with exit 2; \$USER, file name, cell too"
