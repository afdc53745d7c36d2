#!/usr/bin/env bash
# Refs that must not be fetched are refused before any connection (a live run against the Gemini
# fake, where a broken ref fails its row by default):
#   1. Without --allow-private-refs, rows naming the metadata server (169.254.169.254), a private
#      address (10.0.0.1) and loopback (127.0.0.1:PORT) fail with REF_FETCH_FAILED naming the URL,
#      in the results file and on stderr; the run exits 1; the loopback server sees no request;
#      the model sees no request for those rows, and no ledger line is written for them; a row
#      without refs still runs.
#   2. With the flag, a text file served as x.png is refused (its bytes are not an image), naming
#      the row and the URL.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refs-common.inc"

make_pngs imgs x.png:x
printf 'this is not an image, whatever its name says\n' >imgs/fake.png
start_image_server imgs
start_fake gemini gemini_fake.py
export GEMINI_API_KEY=e2e-key
live=(--mode live --api-base "$(fake_url gemini)")
cat >batch.csv <<CSV
scene_id,prompt,variants,refs
META,metadata,2,http://169.254.169.254/x.png
PRIV,private,1,http://10.0.0.1/x.png
LOOP,loopback,1,$img/x.png
PLAIN,no refs,1,
CSV

# 1. Refused addresses.
expect_exit 1 ag run batch.csv "${live[@]}" --no-ref-cache --results results.csv --json
for u in http://169.254.169.254/x.png http://10.0.0.1/x.png "$img/x.png"; do
  assert_contains err.txt "$u"
  grep -F -- "$u" results.csv | grep -qF REF_FETCH_FAILED || fail "results.csv: no REF_FETCH_FAILED naming $u"
done
assert_contains err.txt REF_FETCH_FAILED
assert_eq "$(img_requests)" 0 "requests to the loopback image server"
python3 - <<'PY' || fail "results and summary"
import csv, json
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
for s in ('META', 'PRIV', 'LOOP'):
    assert rows[s]['status'] == 'failed' and rows[s]['error_code'] == 'REF_FETCH_FAILED', rows[s]
assert rows['PLAIN']['status'] == 'ok', rows['PLAIN']
s = json.load(open('out.txt'))
assert s['errorsByCode'] == {'REF_FETCH_FAILED': 4} and s['imagesGenerated'] == 1, s
assert s['requests'] == 1, s
PY
fake_get "$(fake_url gemini)/_fake/log" log.json
python3 -c 'import json; p=[e["prompt"] for e in json.load(open("log.json"))]; assert p==["no refs"], p' ||
  fail "the model got requests for rows whose refs were refused"
assert_eq "$(cat ledger/*.jsonl | wc -l | tr -d " ")" 1 "ledger lines (only the row without refs)"

# 2. Not an image, though its name ends in .png.
printf 'scene_id,prompt,variants,refs\nTEXT,text posing as png,1,%s/fake.png\n' "$img" >batch2.csv
expect_exit 1 ag run batch2.csv "${live[@]}" --allow-private-refs --no-ref-cache --results results2.csv
assert_contains err.txt "batch2.csv:2"
assert_contains err.txt "$img/fake.png"
grep -F "$img/fake.png" results2.csv | grep -qF REF_FETCH_FAILED || fail "results2.csv: no REF_FETCH_FAILED naming the text file"
assert_eq "$(img_requests /fake.png)" 1 "fetches of the text file"
echo "ok: metadata, private and loopback refs refused without a request; a text .png refused"
