#!/usr/bin/env bash
# Records that cannot be written are never lost silently. --events /dev/full is refused before
# anything runs (exit 2: a device is not a file assetgen may write its records to), and a
# --results file that cannot be made ends with a warning on stderr and exit 74, while the other
# records (summary, metrics) are still written.
source "$(dirname "$0")/common.inc"

ag seed --rows 5 >b.csv
expect_exit 2 ag run b.csv --events /dev/full
assert_contains err.txt '--events: "/dev/full" is a device, not a regular file'
[ ! -e out ] || fail "a refused --events made $(ls out)"

echo "a file" >notadir
expect_exit 74 ag run b.csv --job-id second --results notadir/results.csv --metrics-file m.prom
assert_contains err.txt 'notadir/results.csv'
[ -s out/second/summary.json ] || fail "no summary"
assert_contains m.prom 'outcome="generated"}'
echo "ok: lost events and an unwritable results file exit 74 with a message; the other records exist"
