#!/usr/bin/env bash
# `--shard I/N --tier batch`: each shard sends its own rows in its own chunks (display names
# assetgen-<job>-c<K>-s<I>of<N>, reservations <job>/batch/c<K>/s<I>of<N>), so two shards run at
# once never find, create or settle each other's batches; `--merge --shards 2` then writes the
# job's manifest. 24 rows (30 images), --batch-size 4. Checked: the fake made exactly one batch
# per chunk of each shard; every image exists once (PNGs, merged manifest); the ledger has one
# paid line per image at the batch tier, tagged with its row's shard, every reservation settled
# once; its total is half of the same job at --tier standard against the same fake, to the
# micro-dollar (prompts padded as in batch-tier-half-price.sh); and the unsharded command run
# after the merge finds the job done and creates nothing.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
export ASSETGEN_DAILY_BUDGET_USD=20
start_batch_fake
python3 - <<'PY'
import csv
w = csv.writer(open('rows.csv', 'w', newline=''), lineterminator='\n')
w.writerow(['scene_id', 'prompt', 'variants'])
for i in range(1, 25):
    p = 'a lamp on a desk, product shot #%d ' % i
    w.writerow(['ROW-%03d' % i, p + 'x' * ((-len(p)) % 16), 2 if i % 4 == 0 else 1])
PY
images=30

shard_cmd() {  # shard_cmd I: the shard's command in $cmd
  cmd=("$ASSETGEN" run rows.csv --mode live --api-base "$base" --tier batch --shard "$1/2"
    --batch-size 4 --poll-every 0s --out b/out --ledger b/ledger --quiet)
}
pids=()
for i in 0 1; do
  shard_cmd "$i"
  "${cmd[@]}" >"shard$i.out" 2>"shard$i.err" &
  pids+=("$!")
  cleanup_pids+=("$!")
done
for i in 0 1; do
  set +e; wait "${pids[$i]}"; got=$?; set -e
  [ "$got" -eq 0 ] || { cat "shard$i.err" >&2; fail "shard $i/2 exited $got"; }
done
expect_exit 0 ag run rows.csv --mode live --api-base "$base" --tier batch --merge --shards 2 \
  --out b/out --ledger b/ledger
assert_contains err.txt "$images of $images images"
job=$(ls b/out)

batch_counters counters.json
python3 - "$job" <<'PY' || fail "batches the fake made for the shards"
import csv, hashlib, json, re, sys
job = sys.argv[1]
def shard(s, n): return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], 'big') % n
rows = {r['scene_id']: int(r['variants']) for r in csv.DictReader(open('rows.csv'))}
made = json.load(open('counters.json'))['by_display_name']
assert all(v == 1 for v in made.values()), made
for i in (0, 1):
    want = -(-sum(v for s, v in rows.items() if shard(s, 2) == i) // 4)
    mine = sorted(k for k in made if re.fullmatch(r'assetgen-%s-c\d+-s%dof2' % (re.escape(job), i), k))
    assert len(mine) == want, (i, want, mine)
assert len(made) == sum(-(-sum(v for s, v in rows.items() if shard(s, 2) == i) // 4) for i in (0, 1)), made
PY
total=$(check_batch_job "b/out" b/ledger "$images")
python3 - <<'PY' || fail "ledger lines of the shards"
import glob, hashlib, json
def shard(s, n): return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], 'big') % n
led = [json.loads(l) for p in glob.glob('b/ledger/*.jsonl') for l in open(p) if l.strip()]
for l in led:
    if not l.get('kind'):
        assert l['shard'] == '%d/2' % shard(l['scene_id'], 2), l
        assert l['reservation'].endswith('/s%dof2' % shard(l['scene_id'], 2)), l
    else:
        assert l['shard'] in ('0/2', '1/2'), l
PY

# The same job at the standard tier, same fake: twice the money, to the micro-dollar.
expect_exit 0 ag run rows.csv --mode live --api-base "$base" --concurrency 4 --out s/out --ledger s/ledger
assert_eq "$(check_pngs s/out)" "$images" "valid PNGs of the standard run"
standard=$(python3 -c 'import glob, json
from decimal import Decimal
print(sum(int(Decimal(str(json.loads(l)["cost"])) * 1000000) for p in glob.glob("s/ledger/*.jsonl") for l in open(p) if l.strip()))')
assert_eq "$((2 * total))" "$standard" "twice the shards' batch total vs the standard total (micro-dollars)"

# The unsharded command after the merge: the job is done; no batch is made.
batch_counters before.json
expect_exit 0 ag run rows.csv --mode live --api-base "$base" --tier batch --poll-every 0s \
  --out b/out --ledger b/ledger
batch_counters after.json
python3 -c 'import json; a, b = json.load(open("before.json")), json.load(open("after.json"))
assert (a["uploads"], a["creates"]) == (b["uploads"], b["creates"]), (a, b)' ||
  fail "the unsharded run after the merge sent something"
echo "ok: 2 shards at the batch tier, own chunks each, merged: $images images once, \$$total micro-dollars = half of standard"
