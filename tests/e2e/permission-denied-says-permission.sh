#!/usr/bin/env bash
# A file or folder the user may not read or write is reported as a permission problem: the
# message names the path and says "permission denied", and the exit code is 77 (the README's
# code for auth or permission), never 74 ("storage I/O") or 66 ("not found"), for
#   1. an unreadable input;  2. an unreadable config file;
#   3. a ledger folder the user may not write;  4. an out folder the user may not write;
#   5. a ledger folder the user may not read (`ledger sum`);  6. an --events file the user may
#   not write (nothing is made).
# As root (who may do anything) the runs are made as uid 10001 with setpriv (util-linux); the
# test is skipped (77) when setpriv is missing.
source "$(dirname "$0")/common.inc"
if [ "$(id -u)" -eq 0 ]; then
  command -v setpriv >/dev/null || { echo "skip: setpriv is missing"; exit 77; }
  as_user=(setpriv --reuid 10001 --regid 10001 --clear-groups)
  chmod 755 "$T"
else
  as_user=()
fi
mkdir -m 777 work home
export HOME="$T/home" XDG_STATE_HOME="$T/home/state" XDG_CACHE_HOME="$T/home/cache"
cd work
one_variant_batch b.csv 2
chmod 644 b.csv
run_as() { expect_exit "$1" ${as_user[@]+"${as_user[@]}"} "$ASSETGEN" "${@:2}"; }
no_other_word() { if grep -qiE 'no such|storage_io|this is a bug' err.txt; then fail "$1: $(cat err.txt)"; fi; }

cp b.csv secret.csv && chmod 000 secret.csv
run_as 77 run secret.csv --out o1 --ledger l1
assert_contains err.txt 'secret.csv: permission denied'
no_other_word input

printf 'out = "o2"\n' >c.toml && chmod 000 c.toml
run_as 77 --config c.toml run b.csv
assert_contains err.txt 'c.toml'
assert_contains err.txt 'permission denied'
no_other_word config
run_as 77 run b.csv --config c.toml
assert_contains err.txt 'permission denied'

mkdir -m 555 locked-ledger
run_as 77 run b.csv --out o3 --ledger locked-ledger
assert_contains err.txt 'locked-ledger'
assert_contains err.txt 'permission denied'
no_other_word ledger
[ -z "$(find o3 -name '*.png' 2>/dev/null)" ] || fail "images were made with an unwritable ledger"

mkdir -m 555 locked-out
run_as 77 run b.csv --out locked-out --ledger l4
assert_contains err.txt 'locked-out/'
assert_contains err.txt 'permission denied'
no_other_word out
[ -z "$(ls l4/*.jsonl 2>/dev/null)" ] || fail "ledger lines were written although nothing could be made"

mkdir -m 300 unreadable-ledger
run_as 77 ledger sum unreadable-ledger
assert_contains err.txt 'unreadable-ledger: cannot list: permission denied'
touch events.jsonl && chmod 444 events.jsonl
run_as 77 run b.csv --out o6 --ledger l6 --events events.jsonl
assert_contains err.txt 'events.jsonl" for appending: permission denied'
no_other_word events
[ -z "$(find o6 -name '*.png' 2>/dev/null)" ] || fail "images were made although the events file could not be opened"
echo "ok: unreadable or unwritable input, config, ledger, out folders and events file each say permission denied (77)"
