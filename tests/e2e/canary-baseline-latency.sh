#!/usr/bin/env bash
# --baseline: a canary twice as slow as the run it is compared with fails the latency gate
# (Mann–Whitney U) and exits 4; one as fast as the baseline passes.
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

ag seed >batch.csv 2>/dev/null
expect_exit 0 ag run batch.csv --simulate latency=100ms,jitter=10ms,seed=1 --concurrency 64 \
  --out base --ledger base-ledger
base=$(ls base/*/summary.json)

expect_exit 4 ag canary batch.csv --simulate latency=200ms,jitter=10ms,seed=2 --concurrency 64 \
  --baseline "$base" --out slow --ledger slow-ledger --job-id slow --json
cp out.txt slow.json
python3 <<'PY' || fail "slow canary report"
import json
r = json.load(open('slow.json'))
assert r['verdict'] == 'fail' and r['failedGate'] == 'latency_vs_baseline', (r['verdict'], r['failedGate'])
gates = {g['name']: g for g in r['results'][-1]['gates']}
assert gates['latency_vs_baseline']['verdict'] == 'fail', gates
assert gates['error_rate']['verdict'] == 'pass', gates
assert len(r['results']) < 4, 'the slow canary ran every stage'
PY

expect_exit 0 ag canary batch.csv --simulate latency=100ms,jitter=10ms,seed=2 --concurrency 64 \
  --baseline "$base" --out same --ledger same-ledger --job-id same
assert_contains out.txt "latency_vs_baseline"
assert_contains out.txt "stage 4/4"
# The canary's own summary.json is a baseline too.
expect_exit 0 ag canary batch.csv --simulate latency=100ms,jitter=10ms,seed=2 --concurrency 64 \
  --baseline same/same/summary.json --out same --ledger same-ledger --job-id same
echo "ok: a slower canary fails latency_vs_baseline (exit 4); an unchanged one passes"
