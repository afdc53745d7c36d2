#!/usr/bin/env bash
# Endless input stops at the input limit instead of hanging, and nothing is written:
#   1. `run /dev/zero` exits 65 naming /dev/zero and the limit (--max-input-bytes 2MiB; the
#      default, 1 GiB, is named in --help);
#   2. endless stdin (`yes | run -`) exits 65 at the limit, and leaves no spool file in $TMPDIR;
#   3. a regular file over the limit is refused before it is read;
#   4. no out/, ledger/ or job folder appears.
source "$(dirname "$0")/common.inc"
mkdir tmp
export TMPDIR=$T/tmp

expect_exit 65 timeout 60 "$ASSETGEN" run /dev/zero --max-input-bytes 2MiB
assert_contains err.txt '/dev/zero: more than 2 MiB, the input limit'
assert_contains err.txt '--max-input-bytes'

set +e
yes 'ROW,product on clean bg' | timeout 60 "$ASSETGEN" run - --max-input-bytes 3MiB >out.txt 2>err.txt
got=$?
set -e
assert_eq "$got" 65 "exit of endless stdin"
assert_contains err.txt '<stdin>: more than 3 MiB, the input limit'
assert_eq "$(ls -A tmp)" "" "files left in TMPDIR"

python3 -c 'import sys
with open("big.csv", "w") as f:
    f.write("scene_id,prompt\n")
    for i in range(60000): f.write("ROW-%06d,product on clean bg #%d\n" % (i, i))'
expect_exit 65 ag run big.csv --max-input-bytes 1MiB
assert_contains err.txt 'big.csv: more than 1 MiB, the input limit'
expect_exit 2 ag run big.csv --max-input-bytes lots
expect_exit 0 ag run --help
assert_contains out.txt '--max-input-bytes'
assert_contains out.txt '1GiB'

for d in out ledger; do [ ! -e "$d" ] || fail "$d/ was created by a refused input"; done
echo "ok: /dev/zero, endless stdin and an oversized file stop at the input limit with exit 65; nothing left behind"
