#!/usr/bin/env bash
# gs:// failure paths. The final ledger push fails (every part upload answers 503): the run exits
# 74 (a storage failure, not the model's 69), but the job's manifest was published first, so
# another machine sees the images as done and pays nothing. Three runs with failing pushes leave
# each ledger id once in this machine's spools; once Cloud Storage is back, the ledger has each image once.
# Images deleted from the bucket are reported on resume (not trusted from the local spool) and
# made again only with --remake-missing, under new ledger ids. A 5xx reading the ledger before
# the run is exit 74 too.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
start_gcs
gcs=$(fake_url gcs)

one_variant_batch batch.csv 6
cmd=(run batch.csv --job-id j --out gs://bkt/out --ledger gs://bkt/ledger --daily-budget-usd 10)
fake_post "$gcs/_fake/faults" '{"rules":[{"fault":"503","rate":1.0,"ops":["upload"],"object_prefix":"ledger/.parts/"}]}'
expect_exit 74 ag "${cmd[@]}"
assert_contains err.txt "HTTP 503"
assert_contains err.txt "wait in the spool; the next run pushes them"
# Two more runs while the pushes still fail: every image is done, the spooled lines are not
# spooled again (the push of the first run's spool is left for later, said as a warning).
for run in 2 3; do
  expect_exit 0 ag "${cmd[@]}"
  assert_contains err.txt "spool left for later"
  assert_contains err.txt "6 images (6 already done)"
done
fake_post "$gcs/_fake/faults" '{"rules":[]}'
gcs_get bkt out/j/manifest.jsonl published.jsonl
[ "$(count_lines published.jsonl)" -eq 6 ] || fail "the manifest was not published before the failed push"
python3 - "$T/spool" <<'PY' || fail "ids in the spools after three failed pushes"
import json, os, sys, collections
ids = collections.Counter()
for root, dirs, files in os.walk(sys.argv[1]):
    if '/jobs' in root:
        continue
    for f in files:
        if f.endswith('.jsonl'):
            for l in open(os.path.join(root, f)):
                if l.strip():
                    ids[json.loads(l)['id']] += 1
ok = {i: n for i, n in ids.items() if '/v1' in i and i.count('/') == 2}
assert len(ok) == 6 and set(ok.values()) == {1}, ids
PY

# This machine again, Cloud Storage back: the spooled lines reach the ledger, each once.
expect_exit 0 ag "${cmd[@]}"
expect_exit 0 ag ledger verify gs://bkt/ledger --json
python3 -c 'import json; v = json.load(open("out.txt")); assert v["ok"] and v["entries"] == 6, v' \
  || fail "ledger after recovery: $(cat out.txt)"
# Another machine (its own spool) sees the published manifest: nothing to pay.
ASSETGEN_SPOOL_DIR="$T/spool2" expect_exit 0 ag "${cmd[@]}"
assert_contains err.txt "6 images (6 already done)"

# Two images deleted from the bucket: reported, still done; made again only when asked.
gcs_py "
import urllib.request
for n in ('out/j/ROW-002/ROW-002_v1.png', 'out/j/ROW-005/ROW-005_v1.png'):
    urllib.request.urlopen(urllib.request.Request(base + '/storage/v1/b/bkt/o/' + urllib.parse.quote(n, safe=''), method='DELETE'), timeout=30).read()
"
expect_exit 0 ag "${cmd[@]}"
assert_contains err.txt "2 image(s) the job's manifest lists are not in the bucket"
assert_contains err.txt "Give --remake-missing"
assert_contains err.txt "6 images (6 already done)"
expect_exit 0 ag "${cmd[@]}" --remake-missing
assert_contains err.txt "6 images (4 already done)"
gcs_names bkt out/j/ >names.txt
assert_eq "$(grep -c '\.png$' names.txt)" 6 "images in the bucket after --remake-missing"
expect_exit 0 ag ledger verify gs://bkt/ledger --json
python3 - <<'PY' || fail "ledger after --remake-missing: $(cat out.txt)"
import json
v = json.load(open('out.txt'))
assert v['entries'] == 8, v
PY

# A 5xx reading the ledger before the run: exit 74, nothing run.
fake_post "$gcs/_fake/faults" '{"rules":[{"fault":"503","rate":1.0,"ops":["read","list"],"object_prefix":"ledger/"}]}'
expect_exit 74 ag run batch.csv --job-id k --out gs://bkt/out --ledger gs://bkt/ledger --daily-budget-usd 10
fake_post "$gcs/_fake/faults" '{"rules":[]}'
echo "ok: a failed ledger push publishes the manifest first, spools each line once, exits 74"
