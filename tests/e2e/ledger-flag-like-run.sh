#!/usr/bin/env bash
# `run` takes the ledger folder as --ledger DIR; the ledger subcommands took it only as a
# positional, so `assetgen ledger verify --ledger L` (the flag copied from the run) was refused
# with "The following argument was not expected: --ledger". Both spellings now work.
source "$(dirname "$0")/common.inc"
printf 'scene_id,prompt,variants\nA,hello,1\nB,world,2\n' >b.csv
expect_exit 0 ag run b.csv --out o --ledger L -q
expect_exit 0 ag ledger verify --ledger L --out o
assert_contains err.txt "ok: 3 entries in 1 day file, 3 manifest lines"
expect_exit 0 ag ledger sum --ledger L --json
cp out.txt flag.json
expect_exit 0 ag ledger sum L --json
cmp out.txt flag.json || fail "ledger sum --ledger L and ledger sum L differ"
python3 -c 'import json,sys; d=json.load(open("flag.json")); s=json.dumps(d); assert "\"images\": 3" in s or "\"images\":3" in s, s' \
  || fail "ledger sum --ledger L does not count the run's 3 images"
expect_exit 0 ag ledger show --ledger L --limit 1
expect_exit 0 ag ledger compact --ledger L --all
echo ok
