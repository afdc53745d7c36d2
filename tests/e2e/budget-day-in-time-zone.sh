#!/usr/bin/env bash
# Spend is read from the ledger by day in --tz: a line at 23:59:59.999 local time in
# America/Los_Angeles is yesterday's spend and one at 00:00:00.000 is today's, as the run's
# pre-flight shows. (The same boundary across the DST change of 2025-03-09, with a fixed clock,
# is in tests/core/budget/budget_test.cpp.)
source "$(dirname "$0")/common.inc"

mkdir ledger
python3 - <<'PY'
import json, time, datetime, zoneinfo
tz = zoneinfo.ZoneInfo('America/Los_Angeles')
now = datetime.datetime.now(tz)
midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
before = int(midnight.timestamp() * 1000) - 1        # 23:59:59.999 yesterday (local)
after = int(midnight.timestamp() * 1000)             # 00:00:00.000 today (local)
def line(ts, cost):
    return json.dumps({"ts": ts, "userId": "e2e", "jobId": "old", "prompt": "p", "images": 1, "cost": cost,
                       "v": 1, "id": "old/%d" % ts, "scene_id": "s", "variant": 1,
                       "model": "gemini-2.5-flash-image", "mode": "dry_run", "status": "ok",
                       "error_code": "", "estimated": cost, "shard": ""})
by_file = {}
for ts, cost in ((before, 4.0), (after, 0.5)):
    day = datetime.datetime.fromtimestamp(ts / 1000, datetime.timezone.utc).strftime('%Y-%m-%d')
    by_file.setdefault(day, []).append(line(ts, cost))
for day, lines in by_file.items():
    with open('ledger/%s.jsonl' % day, 'a') as f:
        f.write('\n'.join(lines) + '\n')
PY
ag seed --rows 3 >b.csv 2>/dev/null
expect_exit 0 ag run b.csv --tz America/Los_Angeles --daily-budget-usd 1
# Only the 00:00:00.000 line ($0.50) is today in Los Angeles; the $4.00 one is yesterday.
assert_contains err.txt 'spent today'
grep -q 'spent today ([0-9-]* America/Los_Angeles, e2e, dry_run) \$0.500000 of \$1.000000' err.txt ||
  fail "Los Angeles day: $(grep 'spent today' err.txt)"
rm -rf out
python3 -c 'import datetime,zoneinfo; n=datetime.datetime.now(zoneinfo.ZoneInfo("America/Los_Angeles")); print(n.utcoffset())'
echo "ok: day boundaries follow --tz"
