#!/usr/bin/env bash
# --job-id reused after a prompt was edited: the run is refused before anything is spent (exit
# 65, naming the changed row and the fix), no results file claims the old image for the new
# prompt; a new --job-id makes the batch as it is now.
source "$(dirname "$0")/common.inc"

one_variant_batch batch.csv 5
expect_exit 0 ag run batch.csv --job-id fixed --daily-budget-usd 10
sed -i 's/,product on clean bg #2,/,a red bicycle at dusk,/' batch.csv
grep -q 'red bicycle' batch.csv || fail "the edit did not apply"
lines_before=$(cat ledger/*.jsonl | wc -l)
expect_exit 65 ag run batch.csv --job-id fixed --daily-budget-usd 10 --results results.csv
assert_contains err.txt 'batch.csv:3: scene_id "ROW-002": changed since job fixed made its image(s)'
assert_contains err.txt "1 row(s) differ from what job fixed made their images from"
assert_contains err.txt "Give a new --job-id"
[ ! -e results.csv ] || fail "a refused run wrote a results file"
[ "$(cat ledger/*.jsonl | wc -l)" -eq "$lines_before" ] || fail "a refused run wrote ledger lines"
# A setting that changes the images (the size) is a change of every row.
expect_exit 65 ag run batch.csv --job-id fixed --daily-budget-usd 10 --image-size 2K
assert_contains err.txt "5 row(s) differ"
# The prompt put back: the job is finished as it was.
sed -i 's/,a red bicycle at dusk,/,product on clean bg #2,/' batch.csv
expect_exit 0 ag run batch.csv --job-id fixed --daily-budget-usd 10
assert_contains err.txt "5 images (5 already done)"
sed -i 's/,product on clean bg #2,/,a red bicycle at dusk,/' batch.csv
expect_exit 0 ag run batch.csv --job-id fixed2 --daily-budget-usd 10 --results results.csv
python3 - <<'PY' || fail "the new job's results"
import csv, json
rows = {r['scene_id']: r for r in csv.DictReader(open('results.csv'))}
assert rows['ROW-002']['prompt'] == 'a red bicycle at dusk' and rows['ROW-002']['status'] == 'ok'
img = rows['ROW-002']['images']
assert img.startswith('out/fixed2/'), img
man = [json.loads(l) for l in open('out/fixed2/manifest.jsonl')]
m = [m for m in man if m['scene_id'] == 'ROW-002'][0]
assert m['prompt'] == 'a red bicycle at dusk' and len(m['content']) == 16, m
PY
echo "ok: an edited row under a reused --job-id is refused, never reported with the old image"
