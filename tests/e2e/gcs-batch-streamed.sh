#!/usr/bin/env bash
# A gs:// batch is streamed into the run's private copy, never held whole in memory (issue 14):
#   1. a gs:// batch over --max-input-bytes stops with exit 65 and the message stdin and local
#      files give ("<location>: more than 1 MiB, the input limit"), nothing is written to the
#      bucket and no spool file is left in $TMPDIR;
#   2. a 210 MB gs:// batch read up to a 190 MiB limit keeps the peak resident memory under
#      100 MB (/usr/bin/time -v), where reading it whole would need more than 190 MB;
#   3. a batch within the limit still runs (the streamed copy is the batch: 3 rows, 3 images).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
[ -x /usr/bin/time ] || { echo "skip: no /usr/bin/time (Debian package time)"; exit 77; }
start_gcs
mkdir tmp
export TMPDIR=$T/tmp

python3 -c 'import sys
with open("big.csv", "w") as f:
    f.write("scene_id,prompt\n")
    for i in range(60000): f.write("ROW-%06d,product on clean bg #%d\n" % (i, i))'
gcs_put bkt in/big.csv big.csv
expect_exit 65 ag run gs://bkt/in/big.csv --max-input-bytes 1MiB --out gs://bkt/out --ledger gs://bkt/ledger
assert_contains err.txt 'gs://bkt/in/big.csv: more than 1 MiB, the input limit'
assert_contains err.txt '--max-input-bytes'
assert_eq "$(gcs_names bkt out/)$(gcs_names bkt ledger/)" "" "objects written by a refused batch"
assert_eq "$(ls -A tmp)" "" "files left in TMPDIR"

# 210 MB of rows, uploaded straight from python (the fake keeps it in its own memory).
gcs_py "
line = b'ROW-%08d,product on clean bg\n'
chunk = b''.join(line % i for i in range(100000))
put('bkt', 'in/huge.csv', b'scene_id,prompt\n' + chunk * (210 * 1000 * 1000 // len(chunk)))"
set +e
/usr/bin/time -v -o time.txt "$ASSETGEN" run gs://bkt/in/huge.csv --max-input-bytes 190MiB \
  --out gs://bkt/out --ledger gs://bkt/ledger >out.txt 2>err.txt
got=$?
set -e
assert_eq "$got" 65 "exit of a 210 MB batch over a 190 MiB limit"
assert_contains err.txt 'gs://bkt/in/huge.csv: more than 190 MiB, the input limit'
rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' time.txt)
[ -n "$rss_kb" ] || fail "no peak RSS in time.txt"
echo "peak RSS reading 190 MiB of a gs:// batch: ${rss_kb} kB"
if ! sanitized; then
  [ "$rss_kb" -lt 100000 ] || fail "peak RSS ${rss_kb} kB is not under 100 MB"
fi
assert_eq "$(ls -A tmp)" "" "files left in TMPDIR"

printf 'scene_id,prompt\nA-1,red cube\nA-2,blue cube\nA-3,green cube\n' >small.csv
gcs_put bkt in/small.csv small.csv
expect_exit 0 ag run gs://bkt/in/small.csv --out gs://bkt/out --ledger gs://bkt/ledger
assert_eq "$(gcs_names bkt out/ | grep -c '\.png$')" 3 "PNG objects of the small batch"
echo "ok: a gs:// batch streams into the private copy, stops at --max-input-bytes with exit 65, and stays under 100 MB"
