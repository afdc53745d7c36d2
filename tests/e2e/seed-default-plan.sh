#!/usr/bin/env bash
# `assetgen seed` reproduces the reference 100-row plan: BATCH-001..BATCH-100, 199 images,
# 34/33/33 rows with 1/2/3 variants, 20 rows with refs, distribution on stderr.
source "$(dirname "$0")/common.inc"

ag seed >batch.csv 2>dist.txt
assert_eq "$(count_lines batch.csv)" 101 "lines (header + 100 rows)"
assert_eq "$(head -1 batch.csv | tr -d '\r')" "scene_id,prompt,variants,refs" "header"
grep -q '^BATCH-001,product on clean bg #1,' batch.csv || fail "first row"
grep -q '^BATCH-100,product on clean bg #100,' batch.csv || fail "last row"
python3 - <<'PY' || fail "distribution"
import csv
rows = list(csv.DictReader(open('batch.csv')))
v = [int(r['variants']) for r in rows]
assert sum(v) == 199, sum(v)
assert (v.count(1), v.count(2), v.count(3)) == (34, 33, 33), (v.count(1), v.count(2), v.count(3))
assert sum(1 for r in rows if r['refs'].strip()) == 20
PY
assert_contains dist.txt "100 rows, 199 images"
# Deterministic: the same options give the same bytes; JSON and JSONL carry the same rows.
ag seed 2>/dev/null | cmp - batch.csv || fail "seed is not deterministic"
ag seed --format json -o b.json 2>/dev/null
ag seed --format jsonl 2>/dev/null >b.jsonl
python3 -c 'import json; r=json.load(open("b.json")); r=r["rows"] if isinstance(r,dict) else r; assert len(r)==100 and sum(int(x["variants"]) for x in r)==199'
assert_eq "$(count_lines b.jsonl)" 100 "jsonl rows"
echo "ok: seed reproduces the 100-row plan"
