#!/usr/bin/env bash
# `ledger show` selects exactly the entries its filters describe, checked against the ledger
# files themselves: --job, --status (any case), --from/--to in UTC and in two --tz zones (one
# ahead of UTC by 14 hours, one behind by 11, so at any time of day one of them puts today's
# entries on another day), --limit (the last N, in order). --json prints parseable ledger lines;
# without --json and without a terminal it prints a header and one tab-separated line of ten
# fields per entry, times in --tz. Filters never come from the environment. Bad dates are usage
# errors (2), --from after --to and an unknown zone are configuration errors (78).
source "$(dirname "$0")/common.inc"

# No reference URLs in the batches: fetching refs is not what this checks (and needs a network).
ag seed --rows 10 --refs-every 0 >b.csv 2>/dev/null
ag seed --rows 6 --refs-every 0 >c.csv 2>/dev/null
expect_exit 0 ag run b.csv --job-id jobb
# Failed images end in ledger lines whose status is their error code; exit 1 (some rows failed).
set +e; ag run c.csv --job-id jobc --max-attempts 1 --simulate error_rate=0.5,seed=5 >/dev/null 2>&1; set -e
cat $(ls ledger/*.jsonl) >all.jsonl

# Runs `ledger show --json` with the given flags and checks its lines are the ledger lines that
# the Python predicate selects, in ledger order.
check() {
  local pred=$1; shift
  expect_exit 0 ag ledger show --json "$@"
  python3 - "$pred" <<'PY' || fail "ledger show --json $*"
import json, sys, datetime, zoneinfo
def day(e, tz='UTC'):
    return datetime.datetime.fromtimestamp(e['ts'] / 1000, zoneinfo.ZoneInfo(tz)).strftime('%Y-%m-%d')
ledger = [json.loads(l) for l in open('all.jsonl')]
got = [json.loads(l) for l in open('out.txt')]
want = [e for e in ledger if eval(sys.argv[1])]
assert [e['id'] for e in got] == [e['id'] for e in want], (len(got), len(want))
assert got == want
PY
}

n_all=$(count_lines all.jsonl)
n_bad=$(grep -vc '"status":"ok"' all.jsonl || true)
[ "$n_bad" -gt 0 ] || fail "the simulated errors wrote no refused line; the status filter would prove nothing"
bad=$(grep -v '"status":"ok"' all.jsonl | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
today=$(python3 -c 'import json; print(__import__("datetime").datetime.utcfromtimestamp(json.loads(open("all.jsonl").readline())["ts"]/1000).strftime("%Y-%m-%d"))')
prev=$(date -u -d "$today - 1 day" +%F)
next=$(date -u -d "$today + 1 day" +%F)

check 'True'
check "e['jobId'] == 'jobb'" --job jobb
check "e['status'] == 'ok'" --status ok
check "e['status'] == '$bad'" --status "$(echo "$bad" | tr 'A-Z' 'a-z')"
check "e['jobId'] == 'jobc' and e['status'] == 'ok'" --job jobc --status OK
check "day(e) == '$today'" --from "$today" --to "$today"
check 'False' --from "$next"
check 'False' --to "$prev"
for tz in Pacific/Kiritimati Pacific/Pago_Pago; do
  check "day(e, '$tz') == '$today'" --from "$today" --to "$today" --tz "$tz"
  check "day(e, '$tz') == '$next'" --from "$next" --tz "$tz"
  check "day(e, '$tz') == '$prev'" --to "$prev" --tz "$tz"
done
expect_exit 0 ag ledger show --json --limit 3
assert_eq "$(cat out.txt | python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in sys.stdin))')" \
  "$(tail -3 all.jsonl | python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in sys.stdin))')" "--limit 3"
assert_contains err.txt "showing the last 3 of $n_all matching entries"

# Filters are not taken from the environment (ASSETGEN_JOB would otherwise narrow it to nothing).
ASSETGEN_JOB=nope ASSETGEN_STATUS=BLOCKED check 'True'

# Plain output: a header, then ten tab-separated fields per entry, the time in --tz.
expect_exit 0 ag ledger show --job jobb --tz Asia/Kolkata
python3 <<'PY' || fail "tab-separated output"
import json, datetime, zoneinfo
rows = [l.rstrip('\n').split('\t') for l in open('out.txt')]
assert rows[0] == ['time (Asia/Kolkata)', 'user', 'job', 'scene_id', 'variant', 'model', 'mode',
                   'status', 'images', 'cost'], rows[0]
want = [json.loads(l) for l in open('all.jsonl') if json.loads(l)['jobId'] == 'jobb']
assert len(rows) == 1 + len(want)
for row, e in zip(rows[1:], want):
    t = datetime.datetime.fromtimestamp(e['ts'] // 1000, zoneinfo.ZoneInfo('Asia/Kolkata'))
    assert row[0] == t.strftime('%Y-%m-%d %H:%M:%S'), (row[0], t)
    assert row[1:4] == [e['userId'], 'jobb', e['scene_id']] and row[4] == str(e['variant']), row
    assert row[7] == e['status'] and row[8] == str(e['images']), row
PY

expect_exit 2 ag ledger show --from 2025-02-30
assert_contains err.txt "is not a date YYYY-MM-DD"
expect_exit 2 ag ledger show --from "$next" --to "$today"
expect_exit 2 ag ledger show --tz Mars/Olympus_Mons
expect_exit 0 ag ledger show --json nowhere
assert_eq "$(cat out.txt)" "" "show of a missing folder"
echo "ok: ledger show filters by job, status, days in a time zone and limit"
