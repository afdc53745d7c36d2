#!/usr/bin/env bash
# SIGINT while `run --tier batch` waits for its batch detaches: nothing is cancelled (the fake's
# batch is still RUNNING, no cancel in its log), the reservation stays open in the ledger, exit
# 75 with the status line; the same command later finds the batch (no second create) and
# collects it.
source "$(dirname "$0")/common.inc"
export ASSETGEN_DAILY_BUDGET_USD=20

start_fake gemini gemini_fake.py --api-key e2e-key \
  --batch-schedule RUNNING,RUNNING,RUNNING,RUNNING,RUNNING,RUNNING,RUNNING,RUNNING,SUCCEEDED
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
one_variant_batch batch.csv 4

# Waits a long time between looks: the signal comes while it waits.
"$ASSETGEN" run batch.csv --mode live --api-base "$base" --tier batch --poll-every 10m >out.txt 2>err.txt &
pid=$!
cleanup_pids+=("$pid")
for _ in $(seq 1 400); do
  grep -q ' is batches/' err.txt 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
grep -q ' is batches/' err.txt || { cat err.txt >&2; fail "the batch was not created"; }
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 75 ] || { cat err.txt >&2; fail "exit $rc after SIGINT, expected 75"; }
grep -qE '^batch: assetgen-job-[0-9a-f]+-c1 (PENDING|RUNNING) [0-9]+/4 done; run the same command again to collect$' err.txt \
  || { cat err.txt >&2; fail "no status line after SIGINT"; }
fake_get "$base/_fake/batch-log" log.json
python3 -c 'import json; ops = [e["op"] for e in json.load(open("log.json"))]; assert "cancel" not in ops, ops' \
  || fail "SIGINT cancelled the batch"
assert_eq "$(grep -c '"kind":"settle"' ledger/*.jsonl || true)" 0 "settle lines after a detach"

expect_exit 0 ag run batch.csv --mode live --api-base "$base" --tier batch --poll-every 0s
fake_get "$base/_fake/batches" batches.json
assert_eq "$(python3 -c 'import json; print(len(json.load(open("batches.json"))))')" 1 "batches at the fake"
job=$(ls out)
assert_eq "$(check_pngs "out/$job")" 4 "valid PNGs after the re-run"
echo "ok: SIGINT detached (exit 75, nothing cancelled); the re-run collected the same batch"
