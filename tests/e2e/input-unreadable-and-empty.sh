#!/usr/bin/env bash
# Clear messages for inputs that cannot be used:
#   1. an unreadable file says "permission denied" (exit 77), not "no such file";
#   2. a missing file says "no such file" (exit 66);
#   3. empty stdin exits 65 (invalid input, not 74) and says stdin was empty;
#   4. a folder says it is a folder (exit 65).
source "$(dirname "$0")/common.inc"
one_variant_batch b.csv 2
chmod 000 b.csv
if [ "$(id -u)" -eq 0 ]; then
  # root reads anything: run the check as nobody, in a folder nobody may write to
  chmod 755 "$T"
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
  as_user=()
fi
expect_exit 77 ${as_user[@]+"${as_user[@]}"} "$ASSETGEN" run b.csv --out "$T/o" --ledger "$T/l"
assert_contains err.txt 'b.csv: permission denied'
if grep -q 'no such file' err.txt; then fail "an unreadable file reported as missing"; fi

expect_exit 66 ag run nope.csv
assert_contains err.txt 'nope.csv: no such file'

expect_exit 65 ag run - </dev/null
assert_contains err.txt '<stdin>: no input (stdin was empty)'

mkdir folder.csv
expect_exit 65 ag run folder.csv
assert_contains err.txt 'folder.csv: is a folder'
for d in o l out ledger; do [ ! -e "$d" ] || fail "$d/ was created by a refused input"; done
echo "ok: permission denied, no such file, empty stdin and a folder each get their own message and code"
