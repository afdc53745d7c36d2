#!/usr/bin/env bash
# Inputs that can be read only once work, and are the same job as the file they carry:
#   1. a FIFO with a writer: the run reads it once (no hang on a second open), makes every
#      image, and its job id is the regular file's (the same bytes hash alike);
#   2. `run <(cat b.csv)`: the same (no "file is empty");
#   3. `run - < b.csv` and `cat b.csv | run -`: the same job again (already finished).
source "$(dirname "$0")/common.inc"
one_variant_batch b.csv 5

expect_exit 0 ag run b.csv --out file-out --ledger l --json
file_job=$(python3 -c 'import json; print(json.load(open("out.txt"))["jobId"])')

mkfifo pipe.csv  # a FIFO named like the export it carries
cat b.csv >pipe.csv &
cleanup_pids+=("$!")
expect_exit 0 timeout 60 "$ASSETGEN" run pipe.csv --out fifo-out --ledger l --json
python3 - "$file_job" <<'PY' || fail "FIFO run summary"
import json, sys
s = json.load(open("out.txt"))
assert s["jobId"] == sys.argv[1], (s["jobId"], sys.argv[1])
assert s["imagesGenerated"] == 5 and s["errors"] == 0, s
PY
assert_eq "$(ls fifo-out/$file_job/*/ | grep -c png)" 5 "PNGs from the FIFO run"

set +e
timeout 60 "$ASSETGEN" run <(cat b.csv) --out subst-out --ledger l --json >out.txt 2>err.txt
got=$?
set -e
[ "$got" -eq 0 ] || { cat err.txt >&2; fail "run <(cat b.csv) exited $got"; }
python3 - "$file_job" <<'PY' || fail "<(...) run summary"
import json, sys
s = json.load(open("out.txt"))
assert s["jobId"] == sys.argv[1] and s["imagesGenerated"] == 5, s
PY

expect_exit 0 ag run - --out file-out --ledger l <b.csv
assert_contains err.txt "already finished"
set +e; cat b.csv | "$ASSETGEN" run - --out file-out --ledger l >out.txt 2>err.txt; got=$?; set -e
assert_eq "$got" 0 "exit of cat | run -"
assert_contains err.txt "already finished"
echo "ok: a FIFO, <(...) and stdin are read once and hash like the file they carry"
