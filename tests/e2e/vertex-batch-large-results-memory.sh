#!/usr/bin/env bash
# Memory stays flat in the size of a Vertex batch's predictions (issue 17, "the same flows through
# --api vertex"): 10,000 requests through `run --api vertex --tier batch` whose predictions file
# in the GCS fake is about 1.5 GB (the Gemini fake pads each PNG to 110,000 bytes: ~147 KB of
# base64 a line) are collected, read back in ranged reads and streamed line by line into 10,000
# images, with a peak RSS under 150 MB (/usr/bin/time -f %M) for the whole run (plan, stage the
# input, create, wait, collect). The fakes hold none of it in memory either: the Vertex fake writes
# the predictions through a temporary file and the GCS fake keeps uploads over 64 MiB in a file
# (--spill-over); their own peak RSS is printed and bounded too. It needs about 3.5 GB of disk
# (the predictions twice while the fake stores them, and the images); with less free, the request
# count is scaled down to what fits and the figure is printed. ROWS overrides the count. Labelled
# `memory` in ctest (skipped under AddressSanitizer, like batch-large-results-memory.sh).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/vertex-batch-common.inc"
if sanitized; then echo "skip: peak RSS means nothing under AddressSanitizer" >&2; exit 77; fi
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (scripts/bootstrap --test installs it)"
limit_kb=150000
fake_limit_kb=150000  # a fake holding the predictions would be at 1.5 GB
png_bytes=110000
per_request_kb=450  # ~147 KB of predictions twice (the Vertex fake's file, the GCS fake's), 110 KB of image, margin
rows_that_fit "$per_request_kb"

# The fakes' temporary folders (their files) go below $T, removed with it.
gcs_fake_args=(--spill-over $((64 << 20)))
TMPDIR="$T" start_vertex_batch_fakes --png-bytes "$png_bytes"
one_variant_batch rows.csv "$rows"
started=$(date +%s.%N)
set +e
/usr/bin/time -f '%M' -o run.rss "$ASSETGEN" run rows.csv "${vflags[@]}" --tier batch --poll-every 0s \
  --batch-staging gs://bkt/stage --daily-budget-usd 1000 --job-id large --quiet --json >run.out 2>run.err
got=$?
set -e
wall=$(elapsed_since "$started")
[ "$got" -eq 0 ] || { tail -20 run.err >&2; fail "the run exited $got"; }
rss=$(tail -1 run.rss)

# fake_hwm_kb SCRIPT: the peak RSS (VmHWM) of the running fake SCRIPT, in KB.
fake_hwm_kb() {
  local p
  for p in "${cleanup_pids[@]}"; do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "$1"; then
      awk '/^VmHWM/ { print $2 }' "/proc/$p/status"
      return 0
    fi
  done
  fail "no running $1"
}
gcs_kb=$(fake_hwm_kb gcs_fake.py)
vertex_kb=$(fake_hwm_kb gemini_fake.py)

fake_get "$gcs/_fake/dump?bucket=bkt&prefix=stage/" staged.json
result_mb=$(python3 -c 'import json
o = [x for x in json.load(open("staged.json"))["objects"] if x["name"].endswith(".jsonl") and "/output/" in x["name"]]
print(sum(int(x["size"]) for x in o) // 1000000)')
echo "$rows requests, predictions $result_mb MB: peak RSS $rss KB, $wall s; fakes' peak RSS: GCS $gcs_kb KB, Vertex $vertex_kb KB" >&2
check_large_batch "$rows" "$png_bytes"
[ "$result_mb" -ge $(( rows * 140 / 1000 )) ] || fail "the predictions file(s) are only $result_mb MB"
[ "$gcs_kb" -lt "$fake_limit_kb" ] || fail "the GCS fake's peak RSS $gcs_kb KB is over $fake_limit_kb KB"
[ "$vertex_kb" -lt "$fake_limit_kb" ] || fail "the Vertex fake's peak RSS $vertex_kb KB is over $fake_limit_kb KB"
[ "$rss" -lt "$limit_kb" ] || fail "peak RSS $rss KB is over $limit_kb KB"
echo "ok: $rows requests, $result_mb MB of predictions, collected with a peak RSS of $rss KB (< $limit_kb KB) in $wall s"
