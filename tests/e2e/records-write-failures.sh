#!/usr/bin/env bash
# Records that cannot be written are never lost silently: --events /dev/full (every event lost)
# and a --results file that cannot be made each end with a warning on stderr and exit 74, while
# the other records (summary, metrics) are still written.
source "$(dirname "$0")/common.inc"

ag seed --rows 5 >b.csv
expect_exit 74 ag run b.csv --events /dev/full
assert_contains err.txt 'events: '
assert_contains err.txt 'could not be written to "/dev/full": No space left on device'
job=$(ls out)
[ -s "out/$job/summary.json" ] || fail "no summary"

echo "a file" >notadir
expect_exit 74 ag run b.csv --job-id second --results notadir/results.csv --metrics-file m.prom
assert_contains err.txt 'notadir/results.csv'
[ -s out/second/summary.json ] || fail "no summary"
assert_contains m.prom 'outcome="generated"}'
echo "ok: lost events and an unwritable results file exit 74 with a message; the other records exist"
