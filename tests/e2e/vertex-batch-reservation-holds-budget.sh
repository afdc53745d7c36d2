#!/usr/bin/env bash
# While a Vertex batch job is pending, its reservation holds the day's budget for every other run
# on the same ledger, local and gs:// (the GCS fake). For each ledger: a `run --api vertex --tier
# batch --no-wait` of 30 rows exits 75 having reserved $X (`ledger sum` shows it pending); a
# second process, a standard Vertex run of 5 images with less than its worst case left beside $X,
# refuses (exit 3) and sends nothing; `--cancel` cancels the job at the fake and gives the money
# back (`ledger sum`: nothing pending, nothing paid), and the second process then runs.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/vertex-batch-common.inc"
start_vertex_batch_fakes
one_variant_batch rows.csv 30
one_variant_batch five.csv 5 " standard"

for ledger in ledger gs://bkt/ledger; do
  tag=$(echo "$ledger" | tr -c 'a-z0-9\n' '-')
  batch_job() {
    "$ASSETGEN" run rows.csv "${vflags[@]}" --tier batch --poll-every 0s --batch-staging gs://bkt/stage \
      --daily-budget-usd 100 --job-id "held-$tag" --out "out-batch-$tag" --ledger "$ledger" --quiet "$@"
  }
  expect_exit 75 batch_job --no-wait
  assert_contains err.txt ' PENDING '
  expect_exit 0 ag ledger sum "$ledger" --json
  held=$(python3 -c 'import json; s = json.load(open("out.txt")); print(s["total"]["reservedPendingUsd"])')
  python3 - "$held" <<'PY' || fail "ledger sum --json while the job is pending ($ledger)"
import json, sys
s, held = json.load(open('out.txt')), float(sys.argv[1])
assert 0.5 < held < 2, ('30 images at the batch price', held)
assert s['total']['costUsd'] == 0 and s['total']['images'] == 0, s
PY
  budget=$(python3 -c "print('%.6f' % ($held + 0.10))")
  fake_get "$base/_fake/stats" stats.json
  vertex_counters before.json
  second=(ag run five.csv "${vflags[@]}" --daily-budget-usd "$budget" --out "out-second-$tag" --ledger "$ledger")
  expect_exit 3 "${second[@]}"
  assert_contains err.txt "of it held by pending batch jobs)"
  assert_contains err.txt 'Nothing was run.'
  fake_get "$base/_fake/stats" stats2.json
  vertex_counters after.json
  python3 - <<'PY' || fail "the refused run sent something ($ledger)"
import json
a, b = json.load(open('stats.json')), json.load(open('stats2.json'))
assert b['requests'] == a['requests'], (a, b)
x, y = json.load(open('before.json')), json.load(open('after.json'))
assert x['creates'] == y['creates'], (x, y)
PY
  [ "$(find "out-second-$tag" -name '*.png' 2>/dev/null | wc -l)" -eq 0 ] || fail "the refused run made images"

  expect_exit 0 batch_job --cancel
  expect_exit 0 ag ledger sum "$ledger" --json
  python3 - <<'PY' || fail "ledger sum --json after --cancel ($ledger)"
import json
s = json.load(open('out.txt'))
assert s['total']['reservedPendingUsd'] == 0 and s['total']['costUsd'] == 0, s
PY
  vertex_jobs jobs.json
  python3 - "held-$tag" <<'PY' || fail "the job was not cancelled at the fake"
import json, sys
j = [x for x in json.load(open('jobs.json')) if x['displayName'].startswith('assetgen-%s-' % sys.argv[1])]
assert [x['state'] for x in j] == ['CANCELLED'], j
PY
  expect_exit 0 "${second[@]}"
  assert_eq "$(check_pngs "out-second-$tag")" 5 "images of the second run once the money was given back"
  echo "$ledger: a pending Vertex job held \$$held; a run with less left refused, sent nothing; --cancel gave it back" >&2
done
echo "ok: a pending Vertex batch job's reservation holds the budget on a local and a gs:// ledger"
