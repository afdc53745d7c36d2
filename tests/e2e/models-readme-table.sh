#!/usr/bin/env bash
# `assetgen models` lists the catalog (issue 15 item 3): a table, --json (id, lifecycle, sizes,
# the price of an image per size and tier) and --markdown, which is the price table README.md
# carries between its `models --markdown` markers: the two must agree byte for byte, so a
# catalog change without a README update (or the reverse) fails here. A bad --models file is
# exit 78. Fails on a build whose README table and catalog differ.
source "$(dirname "$0")/common.inc"

expect_exit 0 ag models
assert_contains out.txt "gemini-3.1-flash-image"
assert_contains out.txt "shutdown 2026-10-02 -> gemini-3.1-flash-image"

expect_exit 0 ag models --json
python3 - "$ASSETGEN_SOURCE_DIR/core/budget/models.json" <<'PY' || fail "models --json"
import json, sys
out = json.load(open('out.txt'))
cat = json.load(open(sys.argv[1]))
assert [m['id'] for m in out] == [m['id'] for m in cat['models']], out
flash = next(m for m in out if m['id'] == 'gemini-3.1-flash-image')
assert flash['lifecycle']['state'] == 'ga' and flash['sizes'] == ['512', '1K', '2K', '4K'], flash
assert flash['per_image_usd']['standard']['1K'] == 0.067 and flash['per_image_usd']['flex']['1K'] == 0.0335, flash
assert set(flash['per_image_usd']) == {'standard', 'flex', 'batch', 'priority'}, flash
PY

expect_exit 0 ag models --markdown
python3 - "$ASSETGEN_SOURCE_DIR/README.md" <<'PY' || fail "README.md's price table is not what 'assetgen models --markdown' prints; paste it between the markers"
import sys
readme = open(sys.argv[1]).read()
begin, end = '<!-- assetgen models --markdown -->\n', '<!-- end of assetgen models --markdown -->\n'
assert readme.count(begin) == 1 and readme.count(end) == 1
table = readme[readme.index(begin) + len(begin):readme.index(end)]
assert table == open('out.txt').read(), table
PY

printf '{"catalog": 2}' >bad.json
expect_exit 78 ag models --models bad.json
assert_contains err.txt "bad.json"
echo ok
