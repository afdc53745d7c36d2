#!/usr/bin/env bash
# Live mode against the loopback Gemini fake, 199 images at --concurrency 8 while the fake answers
# 10% of requests with 429 (RetryInfo.retryDelay "1.5s") and 5% with 503 (seeded rules):
#   - never more than 8 requests in flight at the fake (its max_in_flight);
#   - every image ends ok within the default --max-attempts 4 (exit 0, summary errors 0), and each
#     fault cost exactly one retry;
#   - no retry arrives before the server's hint: the request after a 429 for the same image arrives
#     at least 1.5 s after the 429 did (fake log arrival times).
# Each row has one variant and its own prompt, so the fake's log pairs a retry with its image by
# prompt. Fault seed 43505 was chosen (by scanning the fake's seeded draw sequence) so that the
# first 180 draws hold 20 × 429 and 8 × 503, never more than 2 faults in a row (the circuit
# breaker, 5 consecutive failures, stays closed), and the next 90 draws, where the retries of
# the last images land, hold only one fault: in repeated runs no image needed more than 3
# attempts, so the default --max-attempts 4 suffices with a margin.
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 50
base=$(fake_url gemini)
fake_post "$base/_fake/faults" \
  '{"rules":[{"fault":"429","rate":0.1,"retry_delay":"1.5s"},{"fault":"503","rate":0.05}],"seed":43505}'

one_variant_batch batch.csv 199
export GEMINI_API_KEY=e2e-key
t0=$(date +%s.%N)
expect_exit 0 ag run batch.csv --mode live --api-base "$base" --concurrency 8 \
  --events events.jsonl --results results.csv --json
echo "run took $(elapsed_since "$t0") s"
cp out.txt summary.json
fake_get "$base/_fake/stats" stats.json
fake_get "$base/_fake/log" log.json

python3 - <<'PY' || fail "concurrency, retries or retry timing"
import json, csv, collections
s = json.load(open('summary.json'))
stats = json.load(open('stats.json'))
log = json.load(open('log.json'))
by = stats['by_status']
n429, n503, n200 = by.get('429', 0), by.get('503', 0), by.get('200', 0)
print('fake: %d requests, max_in_flight %d, by_status %s' % (stats['requests'], stats['max_in_flight'], by))
print('summary: imagesGenerated %s errors %s requests %s retries %s' %
      (s['imagesGenerated'], s['errors'], s['requests'], s['retries']))

assert stats['max_in_flight'] <= 8, 'more than 8 requests in flight: %d' % stats['max_in_flight']
assert stats['max_in_flight'] >= 4, 'concurrency was barely used: %d' % stats['max_in_flight']
assert n429 > 0 and n503 > 0, 'the seeded rules injected no 429 or no 503: %s' % by
assert s['imagesGenerated'] == 199 and s['errors'] == 0, s
assert n200 == 199, 'the fake sent %d images for 199' % n200
assert set(by) <= {'200', '429', '503'}, by
assert s['requests'] == stats['requests'], (s['requests'], stats['requests'])
assert s['retries'] == n429 + n503, 'retries %d != faults %d' % (s['retries'], n429 + n503)

# Results: every row ok.
rows = list(csv.DictReader(open('results.csv')))
assert len(rows) == 199 and all(r['status'] == 'ok' for r in rows), collections.Counter(r['status'] for r in rows)

# Per image (= per prompt): attempts in arrival order; a 429 is followed by the next attempt
# no sooner than 1.5 s after it arrived; the last attempt is the 200; at most 4 attempts.
per = collections.defaultdict(list)
for e in log:
    per[e['prompt']].append(e)
assert len(per) == 199, len(per)
gaps, worst = [], 0
for prompt, reqs in per.items():
    reqs.sort(key=lambda e: e['ts_ms'])
    worst = max(worst, len(reqs))
    assert len(reqs) <= 4, '%r took %d attempts' % (prompt, len(reqs))
    assert [e['status'] for e in reqs][-1] == 200 and all(e['status'] != 200 for e in reqs[:-1]), \
        (prompt, [e['status'] for e in reqs])
    for a, b in zip(reqs, reqs[1:]):
        if a['status'] == 429:
            gap = b['ts_ms'] - a['ts_ms']
            gaps.append(gap)
            assert gap >= 1500, '%r: retry arrived %.1f ms after its 429 (hint 1.5 s)' % (prompt, gap)
assert gaps, 'no 429 was followed by a retry'
print('429 → retry gaps: %d, min %.0f ms, max %.0f ms; most attempts for one image: %d' %
      (len(gaps), min(gaps), max(gaps), worst))

# Events: one retry event per fault, 199 item_complete, no circuit opened.
ev = [json.loads(l) for l in open('events.jsonl') if l.strip()]
kinds = collections.Counter(e['event'] for e in ev)
assert kinds['retry'] == n429 + n503 and kinds['item_complete'] == 199, kinds
assert s['circuitOpens'] == 0, s['circuitOpens']
PY
echo "ok: 199 images at concurrency 8 through seeded 429/503 faults, no early retry"
