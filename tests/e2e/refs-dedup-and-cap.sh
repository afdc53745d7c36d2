#!/usr/bin/env bash
# What a live request carries when refs repeat or are too many (against the Gemini fake, whose
# /_fake/log lists the SHA-256 of every inline image of each request):
#   1. Two different URLs serving identical bytes go as one inline image; global refs follow the
#      row's, --global-ref flags before the batch file's "global_refs".
#   2. A row naming 8 distinct refs (5 of its own, 3 global) sends the first 6 in row-then-global
#      order; the 2 beyond --max-refs are reported in a "refs" event and never fetched.
#   3. The ref_mode sentence follows the prompt when refs are attached.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refs-common.inc"

make_pngs imgs a.png:same b.png:same r1.png:r1 r2.png:r2 r3.png:r3 r4.png:r4 r5.png:r5 \
  g1.png:g1 g2.png:g2 g3.png:g3
start_image_server imgs
start_fake gemini gemini_fake.py
export GEMINI_API_KEY=e2e-key
python3 - "$img" <<'PY'
import json, sys
u = sys.argv[1]
json.dump({"rows": [
    {"scene_id": "DUP", "prompt": "dup row", "variants": 1, "refs": "%s/a.png %s/b.png" % (u, u)},
    {"scene_id": "CAP", "prompt": "cap row", "variants": 1,
     "refs": " ".join("%s/r%d.png" % (u, i) for i in range(1, 6))}],
    "global_refs": [u + "/g3.png"]}, open("batch.json", "w"))
PY

expect_exit 0 ag run batch.json --mode live --api-base "$(fake_url gemini)" --allow-private-refs \
  --no-ref-cache --global-ref "$img/g1.png" --global-ref "$img/g2.png" --events events.jsonl --json
fake_get "$(fake_url gemini)/_fake/log" log.json
python3 - <<'PY' || fail "the images sent with each request"
import hashlib, json
sha = lambda n: hashlib.sha256(open('imgs/' + n, 'rb').read()).hexdigest()
log = json.load(open('log.json'))
by = {e['prompt'].split('\n')[0]: e for e in log if e['prompt']}
assert set(by) == {'dup row', 'cap row'}, list(by)
dup, cap = by['dup row']['image_sha256'], by['cap row']['image_sha256']
assert dup == [sha('a.png'), sha('g1.png'), sha('g2.png'), sha('g3.png')], dup
assert cap == [sha('r%d.png' % i) for i in range(1, 6)] + [sha('g1.png')], cap
assert 'Use the attached reference images for style only' in by['cap row']['prompt']
s = json.load(open('out.txt'))['refs']
assert s['deduplicated'] == 1 and s['droppedByCap'] == 2, s
PY
assert_eq "$(img_requests /g2.png)" 1 "fetches of g2 (sent with DUP)"
assert_eq "$(img_requests /g3.png)" 1 "fetches of g3 (sent with DUP)"
python3 - <<'PY' || fail "refs events"
import json
ev = [json.loads(l) for l in open('events.jsonl')]
refs = {e['scene_id']: e for e in ev if e['event'] == 'refs'}
d = [(x['url'].rsplit('/', 1)[1], x['reason']) for x in refs['DUP']['dropped']]
assert d == [('b.png', 'duplicate_content')], d
c = [(x['url'].rsplit('/', 1)[1], x['reason']) for x in refs['CAP']['dropped']]
assert c == [('g2.png', 'over_cap'), ('g3.png', 'over_cap')], c
PY
echo "ok: identical refs go once; 8 refs are capped to the first 6, row refs before global"
