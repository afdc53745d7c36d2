#!/usr/bin/env bash
# `run --api vertex --tier batch` SIGKILLed at five moments, each followed by the same command to
# completion: before the input upload (twice: the GCS fake leaves the chunk's upload of its input
# to --batch-staging hanging, either unapplied or stored with its answer never sent; by then the
# run has written the chunk's reserve line, its intent), after the input upload (the fake hangs at the chunk's first batchPredictionJobs.list,
# the look-up before the create), right after the create call was sent (the job is made, its
# answer never comes), while polling (a hung get), and while writing results (the GCS fake sends
# the predictions file's first 8 MiB range, then half of the second and hangs; the run is killed
# once it has stored the images of the first range).
# 30 rows with --batch-size 20 are two chunks. Each time the fake made exactly one job per chunk
# (by display name), every image exists once as a valid PNG with one manifest line, the ledger
# has one paid line per image at the batch tier and every reservation settled once, each image
# costing what it cost in an uninterrupted run, to the micro-dollar; `ledger verify` passes.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/vertex-batch-common.inc"
start_vertex_batch_fakes --png-bytes 450000   # a predictions line of ~600 KB
one_variant_batch rows.csv 30
images=30 chunks=2
job_cmd() {
  cmd=("$ASSETGEN" run rows.csv "${vflags[@]}" --tier batch --batch-size 20 --poll-every 0s
    --batch-staging "gs://bkt/stage-$1" --daily-budget-usd 100 --job-id "$1" --out "out-$1"
    --ledger "ledger-$1" --quiet)
}
# start_killable: starts "${cmd[@]}" in the background; sets pid.
start_killable() {
  "${cmd[@]}" >"$T/bg.out" 2>"$T/bg.err" &
  pid=$!
  cleanup_pids+=("$pid")
}
kill_now() { kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; }
# gcs_hangs: how many answers the GCS fake has left hanging so far (GET /_fake/hangs).
gcs_hangs() { fake_get "$gcs/_fake/hangs" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
# wait_for_gcs_hang BEFORE: waits (bounded, 60 s) until the GCS fake left more than BEFORE answers
# hanging; fails when the run under test ended first.
wait_for_gcs_hang() {
  for _ in $(seq 1 600); do
    [ "$(gcs_hangs)" -gt "$1" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$T/bg.err" >&2; fail "assetgen ended before the upload hung"; }
    sleep 0.1
  done
  fail "the GCS fake never hung at the upload"
}
# check_intent_only JOB STORED: at the kill, chunk 1 of JOB has its reserve line and nothing else
# (no settle, no paid line), the fake made no job for JOB, and the staged input of chunk 1 exists
# (STORED=1: the upload was applied, its answer lost) or not (STORED=0).
check_intent_only() {
  vertex_counters counters.json
  fake_get "$gcs/_fake/dump?bucket=bkt&prefix=stage-$1/" staged.json
  python3 - "$1" "$2" counters.json staged.json <<'PY' || fail "what the run killed at its upload had done"
import glob, json, sys
job, stored = sys.argv[1], sys.argv[2] == "1"
c, staged = json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
led = [json.loads(l) for p in glob.glob('ledger-%s/*.jsonl' % job) for l in open(p) if l.strip()]
reserves = [l for l in led if l.get('kind') == 'reserve']
assert [l.get('batch') for l in reserves] == ['assetgen-%s-c1' % job], ('reserve lines', reserves)
assert [l for l in led if l.get('kind') != 'reserve'] == [], ('more than the intent', led)
assert not [k for k in c['by_display_name'] if k.startswith('assetgen-%s-' % job)], c['by_display_name']
names = [o['name'] for o in staged['objects']]
want = ['stage-%s/assetgen-%s-c1/input.jsonl' % (job, job)] if stored else []
assert names == want, ('staged objects', names, want)
PY
}

job_cmd ref
expect_exit 0 "${cmd[@]}"
vertex_counters counters.json
check_one_job_per_chunk counters.json ref "$chunks"
ref_total=$(check_batch_job out-ref ledger-ref "$images")

for point in upload upload-stored vertex-list vertex-create vertex-get results; do
  job="kill-$point"
  job_cmd "$job"
  if [ "$point" = upload ] || [ "$point" = upload-stored ]; then
    # The first upload below the job's staging prefix (chunk 1's input.jsonl) hangs: "before":
    # its bytes arrived but are not stored; otherwise stored, with half of the answer sent.
    before=$(gcs_hangs) stored=0
    [ "$point" = upload-stored ] && stored=1
    fake_post "$gcs/_fake/faults" "{\"rules\":[{\"fault\":\"hang\",\"ops\":[\"upload\"],\"first_n\":1,\"object_prefix\":\"stage-$job/\",\"before\":$([ $stored = 1 ] && echo false || echo true)}]}"
    start_killable
    wait_for_gcs_hang "$before"
    kill_now
    fake_post "$gcs/_fake/release" '{}'
    fake_post "$gcs/_fake/faults" '{"rules":[]}'
    check_intent_only "$job" "$stored"
  elif [ "$point" = results ]; then
    # Chunk 1's predictions (20 lines of ~600 KB) are read in 8 MiB ranges: the first range
    # arrives whole (its images are stored), the second one half, then nothing.
    prefix="stage-$job/assetgen-$job-c1/output/"
    fake_post "$gcs/_fake/faults" "{\"rules\":[{\"fault\":\"slow\",\"ms\":0,\"ops\":[\"read\"],\"first_n\":1,\"object_prefix\":\"$prefix\"},{\"fault\":\"hang\",\"ops\":[\"read\"],\"first_n\":1,\"object_prefix\":\"$prefix\"}]}"
    start_killable
    for _ in $(seq 1 1200); do
      grep -q "gcs_fake: hang at read" "$T/gcs.log" && [ -n "$(find "out-$job" -name '*.png' 2>/dev/null | head -1)" ] && break
      kill -0 "$pid" 2>/dev/null || { cat "$T/bg.err" >&2; fail "assetgen ended before the results hang"; }
      sleep 0.05
    done
    [ -n "$(find "out-$job" -name '*.png' | head -1)" ] || fail "no image written from the first half of the predictions"
    kill_now
    fake_post "$gcs/_fake/release" '{}'
    fake_post "$gcs/_fake/faults" '{"rules":[]}'
  else
    before=$(hang_count "$point")
    vertex_knob "{\"hang\":{\"at\":\"$point\",\"n\":1}}"
    start_killable
    wait_for_hang "$point" "$before" "$pid"
    kill_now
    vertex_knob '{"release":true}'
  fi
  made=$(find "out-$job" -name '*.png' 2>/dev/null | wc -l | tr -d ' ')
  [ "$made" -lt "$images" ] || fail "$point: the run had made every image before the kill"
  expect_exit 0 "${cmd[@]}"
  vertex_counters counters.json
  check_one_job_per_chunk counters.json "$job" "$chunks"
  total=$(check_batch_job "out-$job" "ledger-$job" "$images" ledger-ref)
  assert_eq "$total" "$ref_total" "$point: ledger total (micro-dollars)"
  expect_exit 0 ag ledger verify "ledger-$job" --out "out-$job"
  echo "$point: killed with $made image(s) written; resumed to $images images, one job per chunk, $total micro-dollars" >&2
done
python3 - counters.json <<'PY' || fail "the fake did not hang at every moment"
import json, sys
c = json.load(open(sys.argv[1]))
assert [h['at'] for h in c['hangs']] == ['vertex-list', 'vertex-create', 'vertex-get'], c['hangs']
PY
echo "ok: killed before the upload (unapplied, and stored with its answer lost), after the upload, after the create, while polling and while writing results; each resumed to one job per chunk, one image and one charge each"
