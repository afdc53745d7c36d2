#!/usr/bin/env bash
# Memory stays flat in the size of a batch's results (issue 17 item 2): 10,000 requests through
# `run --tier batch` whose result file is about 1.5 GB (the fake pads each PNG to 110,000 bytes:
# ~147 KB of base64 a line) are collected, streamed line by line into 10,000 images, with a peak
# RSS under 150 MB (/usr/bin/time -f %M) for the whole run (plan, upload, wait, collect). It needs
# about 2.7 GB of disk (the fake's result file and the images); with less free, the request count
# is scaled down to what fits and the figure is printed. ROWS overrides the count. Labelled
# `memory` in ctest (skipped under AddressSanitizer, whose shadow memory makes the limit
# meaningless, like input-million-rows-memory.sh). Measured (h-batchrun b87c670): 10,000
# requests, 1,471 MB of results, 30.5 MB peak RSS, 1 min 21 s.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
if sanitized; then echo "skip: peak RSS means nothing under AddressSanitizer" >&2; exit 77; fi
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (scripts/bootstrap --test installs it)"
limit_kb=150000
png_bytes=110000
per_request_kb=300  # ~147 KB in the result file, 110 KB of image, the rest records and margin
rows_that_fit "$per_request_kb"

# The fake's own temporary folder (its files) goes below $T, removed with it.
TMPDIR="$T" start_batch_fake --png-bytes "$png_bytes"
one_variant_batch rows.csv "$rows"
set +e
/usr/bin/time -f '%M' -o run.rss "$ASSETGEN" run rows.csv --mode live --api-base "$base" --tier batch \
  --poll-every 0s --daily-budget-usd 1000 --job-id large --quiet --json >run.out 2>run.err
got=$?
set -e
[ "$got" -eq 0 ] || { tail -20 run.err >&2; fail "the run exited $got"; }
rss=$(tail -1 run.rss)

fake_get "$base/_fake/files" files.json
result_mb=$(python3 -c 'import json
f = [x for x in json.load(open("files.json")) if x["source"] == "GENERATED"]
print(sum(int(x["sizeBytes"]) for x in f) // 1000000)')
echo "$rows requests, result file(s) $result_mb MB: peak RSS $rss KB" >&2
check_large_batch "$rows" "$png_bytes"
[ "$result_mb" -ge $(( rows * 140 / 1000 )) ] || fail "the result file(s) are only $result_mb MB"
[ "$rss" -lt "$limit_kb" ] || fail "peak RSS $rss KB is over $limit_kb KB"
echo "ok: $rows requests, $result_mb MB of results, collected with a peak RSS of $rss KB (< $limit_kb KB)"
