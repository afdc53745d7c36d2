#!/usr/bin/env bash
# The returned image's size is checked against the size asked for (Google's table per model,
# imageSize and aspect ratio), from its header. Proves: with the fake answering the documented size,
# a run prints no size warning and the summary's sizeMismatch is 0; with two rows answered at half
# the size ([fault:wrong-size]), the run still succeeds (exit 0, the images kept), stderr warns once
# naming the row, both sizes and the model, and the summary (stdout and summary.json) counts 2; a dry
# run (synthetic 64x64 images) checks nothing.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key
base=$(fake_url gemini)
cat >batch.csv <<'CSV'
scene_id,prompt,variants,aspect_ratio
WIDE,a wide landscape,1,16:9
TALL,a tall tower,1,9:16
SQUARE,a square tile,1,
CSV
GEMINI_API_KEY=e2e-key expect_exit 0 ag run batch.csv --mode live --api-base "$base" \
  --model gemini-3-pro-image --image-size 2K --json
if grep -q 'not the' err.txt; then cat err.txt >&2; fail "a size warning for images of the right size"; fi
python3 -c 'import json; s = json.load(open("out.txt")); assert s["sizeMismatch"] == 0, s' || fail "sizeMismatch"

cat >wrong.csv <<'CSV'
scene_id,prompt,variants,aspect_ratio
WIDE,a wide landscape [fault:wrong-size],1,16:9
TALL,a tall tower [fault:wrong-size],1,9:16
SQUARE,a square tile,1,
CSV
GEMINI_API_KEY=e2e-key expect_exit 0 ag run wrong.csv --mode live --api-base "$base" \
  --model gemini-3-pro-image --image-size 2K --json --events events.jsonl
assert_eq "$(grep -c 'not the' err.txt)" 1 "size warnings on stderr"
assert_contains err.txt 'wrong.csv:'
assert_contains err.txt 'gemini-3-pro-image'
grep -qE '1376x768, not the 2752x1536|768x1376, not the 1536x2752' err.txt || { cat err.txt >&2; fail "the warning names both sizes"; }
python3 - <<'PY' || fail "sizeMismatch counts the two images"
import json
s = json.load(open('out.txt'))
assert s['sizeMismatch'] == 2 and s['imagesGenerated'] == 3, s
saved = json.load(open('out/%s/summary.json' % s['jobId']))
assert saved['sizeMismatch'] == 2, saved
ev = [json.loads(l) for l in open('events.jsonl') if l.strip()]
got = sorted((e['scene_id'], e['expected'], e['got']) for e in ev if e['event'] == 'size_mismatch')
assert got == [('TALL', '1536x2752', '768x1376'), ('WIDE', '2752x1536', '1376x768')], got
PY
# The dry run's synthetic images (64x64 by default) are not Google's sizes by design: no check there.
expect_exit 0 ag run wrong.csv --out dry-out --ledger dry-ledger --json
if grep -q 'not the' err.txt; then cat err.txt >&2; fail "a dry run warned about its synthetic sizes"; fi
python3 -c 'import json; s = json.load(open("out.txt")); assert s["sizeMismatch"] == 0, s' || fail "dry-run sizeMismatch"
echo "ok: images of another size than asked are kept, warned about once, and counted in sizeMismatch"
