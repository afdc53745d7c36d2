#!/usr/bin/env bash
# A paid answer is never lost for want of a file descriptor: --concurrency 1024 under
# `ulimit -n 1024` runs fewer requests at once and says so; every 200 the fake answered has its
# ledger line and its image.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 30
base=$(fake_url gemini)
one_variant_batch batch.csv 600
set +e
( ulimit -n 1024 && GEMINI_API_KEY=e2e-key exec "$ASSETGEN" run batch.csv --mode live --api-base "$base" \
    --concurrency 1024 --daily-budget-usd 100 ) >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat err.txt >&2; fail "exit $rc"; }
assert_contains err.txt "--concurrency 1024: the open-file limit (1024,"
assert_contains err.txt "Raise it (ulimit -n) to run more"
fake_get "$base/_fake/stats" stats.json
python3 - <<'PY' || fail "answers and records"
import json, glob, re
stats = json.load(open('stats.json'))
answered = stats['by_status'].get('200', 0)
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
charged = [l for l in led if l['cost'] > 0]
ok = [l for l in led if l['status'] == 'ok']
man = [l for p in glob.glob('out/*/manifest.jsonl') for l in open(p)]
assert answered == len(charged) == len(ok) == len(man) == 600, (answered, len(charged), len(ok), len(man))
lowered = int(re.search(r'leaves room for (\d+) requests', open('err.txt').read()).group(1))
assert 1 <= lowered < 1024 and stats['max_in_flight'] <= lowered, (lowered, stats['max_in_flight'])
PY
echo "ok: concurrency fitted to the descriptor limit; every answered request recorded"
