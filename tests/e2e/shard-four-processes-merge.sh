#!/usr/bin/env bash
# Four shard processes (--shard 0/4 … 3/4) run the default 100-row plan at the same time: one
# job id, each shard's records in <out>/<job>/shards/<I>-of-4/, every row in exactly one shard
# (the one its scene_id hashes to), manifest and ledger lines carry "I/4". Then --merge --shards 4
# writes the job's manifest (199 images, each once), summary.json and a results CSV of every row.
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

ag seed >batch.csv 2>/dev/null
pids=()
for i in 0 1 2 3; do
  "$ASSETGEN" run batch.csv --shard "$i/4" --simulate latency=5ms,seed=1 --concurrency 4 >"out$i.txt" 2>"err$i.txt" &
  pids+=($!)
done
for i in 0 1 2 3; do
  wait "${pids[$i]}" || { cat "err$i.txt" >&2; fail "shard $i/4 exited $?"; }
done
assert_eq "$(ls out | wc -l | tr -d ' ')" 1 "job folders (all shards are one job)"
job=$(ls out)
for i in 0 1 2 3; do
  assert_contains "err$i.txt" "shard $i/4"
  [ -f "out/$job/shards/$i-of-4/manifest.jsonl" ] || fail "no manifest for shard $i"
  [ -f "out/$job/shards/$i-of-4/summary.json" ] || fail "no summary for shard $i"
  [ -f "out/$job/shards/$i-of-4/state.json" ] || fail "no state for shard $i"
done
[ ! -f "out/$job/manifest.jsonl" ] || fail "a shard wrote the job's own manifest"
python3 - "$job" <<'PY' || fail "shards"
import csv, glob, hashlib, json, sys
job = sys.argv[1]
def shard(s, n): return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], 'big') % n
rows = {r['scene_id']: int(r['variants']) for r in csv.DictReader(open('batch.csv'))}
seen = {}
for i in range(4):
    for l in open('out/%s/shards/%d-of-4/manifest.jsonl' % (job, i)):
        m = json.loads(l)
        k = (m['scene_id'], m['variant'])
        assert k not in seen, ('image twice', k, i, seen[k])
        seen[k] = i
        assert m['shard'] == '%d/4' % i, m
        assert shard(m['scene_id'], 4) == i, (m['scene_id'], i)
    s = json.load(open('out/%s/shards/%d-of-4/summary.json' % (job, i)))
    want = sum(v for sc, v in rows.items() if shard(sc, 4) == i)
    assert s['imagesGenerated'] == want, (i, s['imagesGenerated'], want)
assert set(seen) == {(s, v) for s, n in rows.items() for v in range(1, n + 1)}, len(seen)
sizes = [sum(1 for sc in rows if shard(sc, 4) == i) for i in range(4)]
assert all(sizes), sizes
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
assert len(led) == 199, len(led)
assert len({l['id'] for l in led}) == 199
for l in led:
    assert l['jobId'] == job and l['shard'] == '%d/4' % shard(l['scene_id'], 4), l
print('rows per shard:', sizes)
PY

# Merge: the job's manifest, summary, results and contact sheet.
expect_exit 0 ag run batch.csv --merge --shards 4 --results results.csv --report report.html
assert_contains err.txt "merged 4 shard(s): 100 rows, 199 of 199 images"
assert_eq "$(count_lines "out/$job/manifest.jsonl")" 199 "merged manifest lines"
python3 - "$job" <<'PY' || fail "merge"
import csv, json, sys
job = sys.argv[1]
man = [json.loads(l) for l in open('out/%s/manifest.jsonl' % job)]
assert len({(m['scene_id'], m['variant']) for m in man}) == 199
s = json.load(open('out/%s/summary.json' % job))
assert s['imagesGenerated'] == 199 and s['rows'] == 100 and s['merged']['rowsMissing'] == 0, s
res = list(csv.DictReader(open('results.csv')))
assert len(res) == 100 and all(r['status'] == 'ok' for r in res), res[:2]
assert sum(len(r['images'].split()) for r in res) == 199
html = open('report.html').read()
assert html.count('class="card status-ok"') == 199, html.count('class="card status-ok"')
assert '4 shards merged' in html
PY
# The merged job is finished: the unsharded command with the same options resumes it, runs nothing.
expect_exit 0 ag run batch.csv --simulate latency=5ms,seed=1
assert_contains err.txt "already finished"
# Wrong shard counts and options are refused clearly.
expect_exit 66 ag run batch.csv --merge --shards 5
assert_contains err.txt "no shard of"
expect_exit 2 ag run batch.csv --merge --shard 1/4
expect_exit 78 ag run batch.csv --merge
assert_contains err.txt "--shards"
echo "ok: 4 shards, every row once, merged to 199 images"
