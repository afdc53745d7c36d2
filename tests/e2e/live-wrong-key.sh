#!/usr/bin/env bash
# Bad Gemini API credentials stop a live run with exit 77 and never leak:
#   1. GEMINI_API_KEY set to a wrong, distinctive value → the fake answers 400 API_KEY_INVALID (to
#      the first step, models.get) →
#      exit 77 with a clear message; the run stops at once instead of failing row after row (the
#      fake sees at most --concurrency requests); the key's text appears nowhere in stdout,
#      stderr, the events file, the manifest, the summary, the ledger or the results file.
#   2. No key at all (GEMINI_API_KEY and GOOGLE_API_KEY unset) → exit 77 naming GEMINI_API_KEY,
#      and no request is sent.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key the-right-key --latency-ms 20
base=$(fake_url gemini)
ag seed --rows 20 --refs-every 0 >batch.csv 2>/dev/null
wrong="AIzaSyWRONG-e2e-$$-$RANDOM-k3y-d0-n0t-l34k"

# 1. A wrong key.
GEMINI_API_KEY="$wrong" expect_exit 77 ag run batch.csv --mode live --api-base "$base" --concurrency 4 \
  --events events.jsonl --results results.csv --json
cat err.txt
grep -qi "api key" err.txt || fail "the message does not say the API key was refused: $(cat err.txt)"
# The key is refused at the run's first step (models.get), before any image request: the results
# file is not written then; whatever was written must not hold the key.
for f in out.txt err.txt events.jsonl; do [ -f "$f" ] || fail "$f was not written"; done
touch results.csv; mkdir -p out ledger
if grep -rlF -- "$wrong" out.txt err.txt events.jsonl results.csv out ledger; then
  fail "the API key appears in the files above"
fi
# Not even a recognisable piece of it (a prefix or suffix of 12 characters).
for piece in "${wrong:0:12}" "${wrong: -12}"; do
  if grep -rlF -- "$piece" out.txt err.txt events.jsonl results.csv out ledger; then
    fail "part of the API key ('$piece') appears in the files above"
  fi
done
n=$(fake_get "$base/_fake/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["requests"])')
[ "$n" -le 4 ] || fail "the fake saw $n requests; a refused key should stop the run at once"
fake_get "$base/_fake/lookups" | grep -q '"status": 400' || fail "the key was not refused at models.get"
echo "wrong key: exit 77 after $n request(s), key not written anywhere"

# 2. No key at all.
fake_post "$base/_fake/reset" '{}'
rm -rf out ledger events.jsonl results.csv
env -u GEMINI_API_KEY -u GOOGLE_API_KEY "$ASSETGEN" run batch.csv --mode live --api-base "$base" \
  >out.txt 2>err.txt && got=0 || got=$?
assert_eq "$got" 77 "exit code without a key"
cat err.txt
assert_contains err.txt GEMINI_API_KEY
n=$(fake_get "$base/_fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
assert_eq "$n" 0 "requests sent without a key"
echo "ok: a wrong key ends with exit 77 and is never written; no key ends with exit 77 naming GEMINI_API_KEY"
