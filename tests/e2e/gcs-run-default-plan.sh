#!/usr/bin/env bash
# The default plan through Cloud Storage (the loopback fake, via STORAGE_EMULATOR_HOST): the
# batch is read from gs://, the 199 images, the manifest, summary.json, state.json with its
# versioned snapshots, the results file and the ledger (gs://bkt/ledger/YYYY-MM-DD.jsonl) are
# written to gs://; the local spool holds the
# durable manifest. The same command again spends nothing, also from a machine without the
# spool (the manifest published in gs:// says what is done).
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
start_gcs

ag seed >batch.csv 2>/dev/null
gcs_put bkt in/batch.csv batch.csv
expect_exit 0 ag run gs://bkt/in/batch.csv --out gs://bkt/out --results gs://bkt/res/results.csv --ledger gs://bkt/ledger
job=$(grep -o 'job-[0-9a-f]*' err.txt | head -1)
[ -n "$job" ] || fail "no job id in the output"
assert_contains err.txt "images:   gs://bkt/out/$job/"
gcs_names bkt out/ >names.txt
assert_eq "$(grep -c '\.png$' names.txt)" 199 "PNG objects"
for f in manifest.jsonl summary.json state.json; do
  grep -qx "out/$job/$f" names.txt || fail "no out/$job/$f in gs://bkt"
done
[ "$(grep -c "^out/$job/state-.*Z\.json$" names.txt)" -ge 2 ] || fail "fewer than 2 state snapshots"
gcs_get bkt "out/$job/manifest.jsonl" manifest.jsonl
gcs_get bkt "out/$job/summary.json" summary.json
gcs_get bkt "out/$job/state.json" state.json
gcs_get bkt res/results.csv results.csv
assert_eq "$(count_lines manifest.jsonl)" 199 "published manifest lines"
assert_eq "$(count_lines results.csv)" 101 "results rows"
python3 - "$job" <<'PY' || fail "manifest, summary and state"
import json, sys
job = sys.argv[1]
man = [json.loads(l) for l in open('manifest.jsonl')]
assert all(m['uri'].startswith('gs://bkt/out/%s/' % job) for m in man), man[0]
assert len({(m['scene_id'], m['variant']) for m in man}) == 199
s = json.load(open('summary.json'))
assert s['imagesGenerated'] == 199 and s['errors'] == 0, s
st = json.load(open('state.json'))
assert st['phase'] == 'finished' and st['imagesDone'] == 199 and st['jobId'] == job, st
assert st['snapshot'].startswith('gs://bkt/out/%s/state-' % job), st
PY
# One image's bytes in gs:// are a PNG and match the manifest's sha256.
first=$(python3 -c 'import json; m=json.loads(open("manifest.jsonl").readline()); print(m["uri"][len("gs://bkt/"):], m["sha256"])')
gcs_get bkt "${first% *}" one.png
assert_eq "$(sha256sum one.png | cut -d' ' -f1)" "${first#* }" "image bytes in gs://"
day=$(date -u +%Y-%m-%d)
gcs_get bkt "ledger/$day.jsonl" day.jsonl
assert_eq "$(json_sum images day.jsonl)" 199 "ledger images in gs://bkt/ledger/$day.jsonl"
assert_contains err.txt "ledger:   gs://bkt/ledger/$day.jsonl"

# Again, with an empty spool (another machine): nothing made, nothing spent.
ASSETGEN_SPOOL_DIR="$T/spool2" expect_exit 0 ag run gs://bkt/in/batch.csv --out gs://bkt/out --ledger gs://bkt/ledger --json
assert_contains err.txt "already finished"
gcs_get bkt "ledger/$day.jsonl" day2.jsonl
cmp -s day.jsonl day2.jsonl || fail "the gs:// ledger changed on the second run"
python3 -c 'import json; s=json.load(open("out.txt")); assert s["imagesGenerated"]==0 and s["imagesSkipped"]==199, s'

# A missing object is a clear error naming it.
expect_exit 66 ag run gs://bkt/in/nope.csv --out gs://bkt/out --ledger gs://bkt/ledger
assert_contains err.txt "gs://bkt/in/nope.csv: no such object"
echo "ok: gs:// in, 199 images + manifest + summary + state snapshots + results out, resume from gs:// alone"
