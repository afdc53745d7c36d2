#!/usr/bin/env bash
# A dry run touches no network: references are planned and de-duplicated by address, not
# fetched, unless --fetch-refs (or ASSETGEN_FETCH_REFS=1, or fetch_refs = true in the config).
#   1. The demo's first run (seed's 100-row plan with its example.com URLs): exit 0, not one
#      warning on stderr, and the summary says how many distinct refs were planned (0 fetched).
#   2. Refs on a loopback image server: the dry run sends it nothing; the summary counts the
#      10 distinct refs as planned, URL duplicates and the cap as usual.
#   3. --fetch-refs, ASSETGEN_FETCH_REFS=1 and the config key each fetch every distinct ref once.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refs-common.inc"

# 1. The demo's commands (scripts/demo sets the day's limit to $20: the seed estimates $13.34).
mkdir demo && cd demo
ag seed -o batch-100.csv 2>/dev/null
ASSETGEN_DAILY_BUDGET_USD=20 expect_exit 0 ag run batch-100.csv --results results.csv --json
if grep -qi 'warn' err.txt; then cat err.txt >&2; fail "the demo's first run printed a warning"; fi
assert_contains err.txt "planned by address, not fetched"
python3 -c 'import json; s=json.load(open("out.txt")); r=s["refs"]
assert s["imagesGenerated"]==199 and s["errors"]==0, s
assert r["fetched"]==0 and r["failed"]==0 and r["planned"]>=1 and r["named"]>=20, r' || fail "demo summary refs"
cd "$T"

# 2. Loopback refs: planned, not fetched.
specs=(); for i in $(seq 0 9); do specs+=("r$i.png:ref-$i"); done
make_pngs imgs "${specs[@]}"
start_image_server imgs
python3 - "$img" <<'PY'
import csv, sys
with open('batch.csv', 'w', newline='') as f:
    w = csv.writer(f, lineterminator='\n')
    w.writerow(['scene_id', 'prompt', 'variants', 'refs'])
    for i in range(30):
        # each row names its ref twice (one URL duplicate a row)
        w.writerow(['ROW-%03d' % i, 'product #%d' % i, 1, '%s/r%d.png %s/r%d.png' % (sys.argv[1], i % 10, sys.argv[1], i % 10)])
PY
expect_exit 0 ag run batch.csv --allow-private-refs --ref-cache cache --json
assert_eq "$(img_requests)" 0 "requests to the image server in a dry run"
python3 -c 'import json; s=json.load(open("out.txt")); r=s["refs"]
assert s["imagesGenerated"]==30 and s["errors"]==0, s
assert r["fetched"]==0 and r["planned"]==10 and r["deduplicated"]==30 and r["named"]==60, r' || fail "summary refs (planned)"
[ ! -e cache ] || [ -z "$(find cache -type f)" ] || fail "the dry run wrote to the ref cache"

# 3. Asked for: fetched once each, by flag, environment and config file.
expect_exit 0 ag run batch.csv --fetch-refs --job-id flag --allow-private-refs --no-ref-cache --json
assert_eq "$(img_requests)" 10 "requests with --fetch-refs"
python3 -c 'import json; r=json.load(open("out.txt"))["refs"]; assert r["fetched"]==10 and r["planned"]==0, r' ||
  fail "summary refs (--fetch-refs)"
ASSETGEN_FETCH_REFS=1 expect_exit 0 ag run batch.csv --job-id env --allow-private-refs --no-ref-cache --json
assert_eq "$(img_requests)" 20 "requests with ASSETGEN_FETCH_REFS=1"
printf 'fetch_refs = true\n' >cfg.toml
expect_exit 0 ag --config cfg.toml run batch.csv --job-id cfg --allow-private-refs --no-ref-cache --json
assert_eq "$(img_requests)" 30 "requests with fetch_refs = true in the config"
echo "ok: a dry run plans refs by address and sends nothing; --fetch-refs, ASSETGEN_FETCH_REFS and fetch_refs fetch each once"
