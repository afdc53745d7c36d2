#!/usr/bin/env bash
# Reference images are fetched once per batch and cached across runs:
#   1. A dry run of 100 rows (1-3 variants each) naming 10 distinct URLs between them fetches each
#      URL exactly once (the image server's access log), and the summary says 10 fetched.
#   2. Another job (--job-id other) over the same batch with the same --ref-cache fetches nothing:
#      every ref comes from the cache (summary: 0 fetched, 10 cache hits).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refs-common.inc"

specs=(); for i in $(seq 0 9); do specs+=("r$i.png:ref-$i"); done
make_pngs imgs "${specs[@]}"
start_image_server imgs
python3 - "$img" <<'PY'
import csv, sys
with open('batch.csv', 'w', newline='') as f:
    w = csv.writer(f, lineterminator='\n')
    w.writerow(['scene_id', 'prompt', 'variants', 'refs'])
    for i in range(100):
        w.writerow(['ROW-%03d' % i, 'product #%d' % i, i % 3 + 1, '%s/r%d.png' % (sys.argv[1], i % 10)])
PY

# 1. One fetch per distinct URL.
expect_exit 0 ag run batch.csv --fetch-refs --daily-budget-usd 100 --allow-private-refs --ref-cache cache --json --events events.jsonl
assert_eq "$(img_requests)" 10 "requests to the image server"
for i in $(seq 0 9); do assert_eq "$(img_requests "/r$i.png")" 1 "fetches of /r$i.png"; done
python3 -c 'import json; s=json.load(open("out.txt")); r=s["refs"]
assert s["imagesGenerated"]==199 and s["errors"]==0, s
assert r["fetched"]==10 and r["cacheHits"]==0 and r["bytesFetched"]>0, r' || fail "summary refs (first run)"

# 2. Another job, the same cache: nothing fetched.
expect_exit 0 ag run batch.csv --fetch-refs --daily-budget-usd 100 --allow-private-refs --ref-cache cache --job-id other --json
assert_eq "$(img_requests)" 10 "requests to the image server after the second job"
python3 -c 'import json; s=json.load(open("out.txt")); r=s["refs"]
assert s["imagesGenerated"]==199 and s["errors"]==0, s
assert r["fetched"]==0 and r["cacheHits"]==10, r' || fail "summary refs (second job)"
echo "ok: 10 distinct refs of 100 rows fetched once each; another job fetched nothing"
