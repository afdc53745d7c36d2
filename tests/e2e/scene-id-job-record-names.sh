#!/usr/bin/env bash
# A scene_id named like one of the job folder's records (manifest.jsonl, state.json, …) could
# never be stored (its images go to <job>/<scene_id>/): refused at validation, exit 65, naming
# the row; nothing is run or paid.
source "$(dirname "$0")/common.inc"

cat >batch.csv <<'CSV'
scene_id,prompt,variants
ok-1,a teapot,1
manifest.jsonl,a chair,1
State.JSON,a lamp,1
summary.json,a vase,1
shards,a bowl,1
state-20261125T101500.123Z.json,a cup,1
CSV
expect_exit 65 ag run batch.csv --daily-budget-usd 10
assert_contains err.txt 'batch.csv:3: scene_id: "manifest.jsonl" is the name of one of the job folder'"'"'s own records'
assert_contains err.txt 'batch.csv:4: scene_id: "State.JSON" is the name'
assert_contains err.txt 'batch.csv:5: scene_id: "summary.json" is the name'
assert_contains err.txt 'batch.csv:6: scene_id: "shards" is the name'
assert_contains err.txt 'batch.csv:7: scene_id: "state-20261125T101500.123Z.json" is the name'
assert_contains err.txt "5 problem(s); nothing was run and nothing was spent"
[ ! -d ledger ] || [ -z "$(cat ledger/*.jsonl 2>/dev/null)" ] || fail "a refused batch spent money"
echo "ok: scene_ids that are job record names are refused at validation"
