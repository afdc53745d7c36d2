#!/usr/bin/env bash
# 8 `assetgen run` processes at once append to the same day's ledger object in gs:// (the
# loopback fake) while it answers 10% of the ledger's compose calls with a lost 412 race (and
# at least 2 of them, however few composes batching leaves) and 5% of all calls with 503: every line is present exactly once (`ledger verify gs://…` against the
# 8 published manifests finds nothing), and `ledger sum` counts every image.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
start_gcs

ag seed --rows 30 >batch.csv 2>/dev/null  # 59 images per process
per=$(python3 -c 'import csv; print(sum(int(r["variants"]) for r in csv.DictReader(open("batch.csv"))))')
fake_post "$(fake_url gcs)/_fake/faults" \
  '{"rules":[{"fault":"412","rate":0.1,"ops":["compose"],"object_prefix":"ledger/"},{"fault":"503","rate":0.05},{"fault":"412","first_n":2,"ops":["compose"],"object_prefix":"ledger/"}],"seed":11}'
pids=()
for i in 1 2 3 4 5 6 7 8; do
  "$ASSETGEN" run batch.csv --job-id "p$i" --out gs://bkt/out --ledger gs://bkt/ledger \
    --simulate latency=5ms,jitter=5ms,seed=$i --concurrency 8 --daily-budget-usd 1000 --quiet \
    >"out-$i.txt" 2>"err-$i.txt" &
  pids+=($!)
done
for i in 1 2 3 4 5 6 7 8; do
  wait "${pids[$((i - 1))]}" || { cat "err-$i.txt" >&2; fail "process $i failed"; }
done
stats=$(fake_get "$(fake_url gcs)/_fake/stats")
python3 -c 'import json, sys; s=json.loads(sys.argv[1]); f=s["by_fault"]
assert f.get("412", 0) > 0 and f.get("503", 0) > 0, f' "$stats" || fail "faults were not injected: $stats"

# The checks below read through the fake too: no more faults for them.
fake_post "$(fake_url gcs)/_fake/faults" '{"rules":[]}'
manifests=()
for i in 1 2 3 4 5 6 7 8; do
  gcs_get bkt "out/p$i/manifest.jsonl" "m$i.jsonl"
  manifests+=(--manifest "m$i.jsonl")
done
expect_exit 0 ag ledger verify gs://bkt/ledger "${manifests[@]}" --json
python3 -c 'import json, sys; v=json.load(open("out.txt")); n=8*int(sys.argv[1])
assert v["ok"] and not v["findings"] and v["entries"] == n == v["manifestLines"], v' "$per" \
  || fail "ledger verify: $(cat out.txt)"
expect_exit 0 ag ledger sum gs://bkt/ledger --by job --json
python3 -c 'import json, sys; s=json.load(open("out.txt")); n=int(sys.argv[1])
assert s["total"]["images"] == 8 * n, s
assert sorted(g["key"] for g in s["groups"]) == ["p%d" % i for i in range(1, 9)], s
assert all(g["images"] == n for g in s["groups"]), s' "$per" || fail "ledger sum: $(cat out.txt)"
# No part object is left behind.
[ -z "$(gcs_names bkt ledger/.parts/)" ] || fail "part objects left: $(gcs_names bkt ledger/.parts/ | head -3)"
echo "ok: 8 processes × $per images appended to one gs:// day object under 412 races and 503s: each line exactly once"
