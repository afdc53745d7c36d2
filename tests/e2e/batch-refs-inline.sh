#!/usr/bin/env bash
# Reference images with `--tier batch`: a row's refs (local files beside the batch) and the global
# ref go into its batch request as inlineData parts, as the synchronous request sends them. The
# Gemini fake decodes every request of the batch's input file and lists, by key, the SHA-256 of
# each inline image it carried. Checked: each request's images are the refs' bytes in row-then-
# global order, a duplicate ref once, exactly the images the same rows carry at --tier standard
# against the same fake; the row without refs carries only the global one; every image comes back
# once and the ledger charges each once.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20

make_pngs refs a.png:a b.png:b c.png:c g.png:g
cat >b.csv <<'CSV'
scene_id,prompt,variants,refs
R1,a chair,1,refs/a.png
R2,a table,2,refs/a.png refs/b.png
R3,a lamp,1,
R4,a rug,1,refs/c.png refs/c.png
CSV
start_batch_fake
images=5

expect_exit 0 ag run b.csv --mode live --api-base "$base" --tier batch --poll-every 0s \
  --global-ref refs/g.png --out b/out --ledger b/ledger --json
job=$(python3 -c 'import json; print(json.load(open("out.txt"))["jobId"])')
check_batch_job b/out b/ledger "$images" >/dev/null
fake_get "$base/_fake/batches" batches.json

# The same rows synchronously, against the same fake.
expect_exit 0 ag run b.csv --mode live --api-base "$base" --global-ref refs/g.png \
  --out s/out --ledger s/ledger
fake_get "$base/_fake/log" log.json
python3 - "$job" <<'PY' || fail "the images each batch request carried"
import hashlib, json, sys
job = sys.argv[1]
sha = lambda n: hashlib.sha256(open('refs/' + n, 'rb').read()).hexdigest()
batches = json.load(open('batches.json'))
assert len(batches) == 1, batches
got = batches[0]['image_sha256']
want = {'R1/1': ['a', 'g'], 'R2/1': ['a', 'b', 'g'], 'R2/2': ['a', 'b', 'g'], 'R3/1': ['g'], 'R4/1': ['c', 'g']}
want = {job + '/' + k: [sha(n + '.png') for n in v] for k, v in want.items()}
assert got == want, (got, want)
# The synchronous requests carried the same bytes, row by row.
sync = {}
for e in json.load(open('log.json')):
    if e.get('prompt'):
        sync.setdefault(e['prompt'].split('\n')[0], []).append(e['image_sha256'])
prompts = {'R1': 'a chair', 'R2': 'a table', 'R3': 'a lamp', 'R4': 'a rug'}
for key, images in got.items():
    scene = key.split('/')[1]
    assert images in sync[prompts[scene]], (key, images, sync[prompts[scene]])
PY
echo "ok: refs went inline in each batch request, the same bytes as the synchronous requests"
