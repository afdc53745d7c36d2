#!/usr/bin/env bash
# The circuit breaker in live mode: an outage of 8 consecutive 503s (fault rule first_n 8) hits a
# 12-row batch at --concurrency 4 while every answer takes 300 ms. From the fake's log (arrival and
# answer times) the test replays what the breaker must have done and proves:
#   - it opens at the 5th consecutive failure, not before;
#   - while it is open (10 s) no request arrives;
#   - then exactly one probe goes out, and nothing else starts until the probe has its answer; a
#     failed probe opens the circuit for another 10 s, a successful one closes it;
#   - rows are not failed by the breaker: once the outage ends every row ends ok (exit 0);
#   - the events file has "circuit" events (open, half_open probe, closed), and the summary's
#     circuitOpens matches the openings seen at the fake.
# Concurrency 4 rather than 1 so that "exactly one probe" means something: with 4 workers waiting,
# a breaker that let them all go after the cooldown would show 4 arrivals within a few ms.
# --max-attempts 9: an image may meet all 8 failures (one worker can be the probe each time), and
# the test is about the breaker, not about attempts running out. Times compare the fake's own
# clock; 50 ms of slack covers the gap between the fake logging an answer and the client reading it.
# Between 10 and 40 s, depending on how many probes meet the outage.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 300
base=$(fake_url gemini)
fake_post "$base/_fake/faults" '{"rules":[{"fault":"503","first_n":8}]}'
one_variant_batch batch.csv 12
t0=$(date +%s.%N)
GEMINI_API_KEY=e2e-key expect_exit 0 ag run batch.csv --mode live --api-base "$base" --concurrency 4 \
  --max-attempts 9 --events events.jsonl --results results.csv --json
echo "run took $(elapsed_since "$t0") s"
cp out.txt summary.json
fake_get "$base/_fake/log" log.json

python3 - <<'PY' || fail "circuit breaker"
import json, csv, collections
THRESHOLD, COOLDOWN, SLACK = 5, 10000.0, 50.0
s = json.load(open('summary.json'))
log = json.load(open('log.json'))
rows = list(csv.DictReader(open('results.csv')))
assert s['imagesGenerated'] == 12 and s['errors'] == 0, s
assert len(rows) == 12 and all(r['status'] == 'ok' for r in rows), [r['status'] for r in rows]
statuses = [e['status'] for e in sorted(log, key=lambda e: e['ts_ms'])]
assert statuses[:8] == [503] * 8 and all(x == 200 for x in statuses[8:]), statuses
t00 = min(e['ts_ms'] for e in log)
def t(x):  # seconds since the first arrival, for messages
    return '%.3f s' % ((x - t00) / 1000)

arrivals = sorted(log, key=lambda e: e['ts_ms'])
completions = sorted(log, key=lambda e: e['end_ms'])
def arriving(lo, hi):  # requests that arrived in the open interval (lo, hi)
    return [e for e in arrivals if lo < e['ts_ms'] < hi]

opens, consec, k, trace, last_end = 0, 0, 0, [], 0.0
while k < len(completions):
    c = completions[k]
    k += 1
    if c['status'] == 200:
        consec = 0
        continue
    consec += 1
    if consec == THRESHOLD and c['ts_ms'] > last_end + SLACK:
        # Not open after 4: the 5th failed request, if it started after the 4th failure, started
        # without a cooldown's wait. (If it was already in flight, opening at 4 would show up below
        # as a probe inside the cooldown counted from the 5th.)
        assert c['ts_ms'] < last_end + COOLDOWN - SLACK, 'the breaker opened before 5 failures'
    last_end = c['end_ms']
    if consec < THRESHOLD:
        continue
    # Open at the answer of the 5th consecutive failure (and again after each failed probe).
    opened = c['end_ms']
    while True:
        opens += 1
        early = arriving(opened + SLACK, opened + COOLDOWN - SLACK)
        assert not early, 'request(s) arrived while the circuit was open (opened at %s): %s' % (
            t(opened), [t(e['ts_ms']) for e in early])
        later = [e for e in arrivals if e['ts_ms'] >= opened + COOLDOWN - SLACK]
        assert later, 'no probe after the cooldown'
        probe = later[0]
        during = arriving(probe['ts_ms'], probe['end_ms'] - SLACK)
        assert not during, 'more than one probe: %s arrived during the probe at %s' % (
            [t(e['ts_ms']) for e in during], t(probe['ts_ms']))
        trace.append('open at %s, probe at %s → %d' % (t(opened), t(probe['ts_ms']), probe['status']))
        if probe['status'] == 200:
            break
        opened = probe['end_ms']
    # Closed again after the successful probe: carry on with what completed after it.
    consec = 0
    k = next(i for i, e in enumerate(completions) if e is probe) + 1
print('\n'.join(trace))
assert opens >= 1, 'the circuit never opened'
assert s['circuitOpens'] == opens, 'summary circuitOpens %s, openings seen at the fake %d' % (s['circuitOpens'], opens)

ev = [json.loads(l) for l in open('events.jsonl') if l.strip()]
circ = [e for e in ev if e['event'] == 'circuit']
states = collections.Counter(e.get('state') for e in circ)
print('circuit events:', dict(states))
assert states['open'] == opens and states['half_open'] == opens and states['closed'] == 1, states
PY
echo "ok: the breaker opened at 5 failures, kept quiet for its cooldown, sent one probe at a time, and failed no row"
