#!/usr/bin/env bash
# `assetgen seed | assetgen run - --json` reads the batch from stdin and prints the summary.
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

set +e; ag seed 2>/dev/null | ag run - --json >summary.json 2>err.txt; rc=$?; set -e
[ $rc -eq 0 ] || { cat err.txt >&2; fail "exit $rc"; }
python3 -c 'import json; s=json.load(open("summary.json")); assert s["imagesGenerated"]==199 and s["rows"]==100, s' ||
  fail "summary: $(cat summary.json)"
# JSON input (the three shapes) works the same way.
ag seed --format json 2>/dev/null | ag run - --format json --json --out out2 --ledger l2 >s2.json 2>/dev/null
python3 -c 'import json; assert json.load(open("s2.json"))["imagesGenerated"]==199'
echo "ok: stdin input, summary on stdout"
