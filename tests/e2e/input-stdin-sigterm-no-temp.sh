#!/usr/bin/env bash
# SIGTERM while stdin is being copied in leaves no temp file: the copy has no name (O_TMPFILE,
# or a name unlinked at once), so nothing outlives the process. The writer keeps the pipe open
# after some rows, so the run is still spooling when the signal comes; the test waits until the
# process holds its temp copy open, then sends SIGTERM.
source "$(dirname "$0")/common.inc"
mkdir tmp
one_variant_batch b.csv 200
mkfifo in.fifo
exec 3<>in.fifo  # held open for writing: the run sees no end of input
TMPDIR=$T/tmp "$ASSETGEN" run - --out o --ledger l <in.fifo >out.txt 2>err.txt &
pid=$!
cleanup_pids+=("$pid")
cat b.csv >&3
spooling=0
for _ in $(seq 1 200); do
  if ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "$T/tmp"; then spooling=1; break; fi
  sleep 0.05
done
assert_eq "$spooling" 1 "the run holds a temp copy of stdin in \$TMPDIR"
kill -TERM "$pid"
set +e; wait "$pid"; got=$?; set -e
exec 3>&-
assert_eq "$got" 143 "exit after SIGTERM while spooling"
assert_eq "$(ls -A tmp)" "" "files left in TMPDIR"
for d in o l; do [ ! -e "$d" ] || fail "$d/ was created before the input was read"; done
echo "ok: SIGTERM during the stdin copy exits 143 and leaves no temp file"
