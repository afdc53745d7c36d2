#!/usr/bin/env bash
# The day's totals object that the sheet's "Spend today" reads (README.md, Formats): after a
# 100,000-image day (a synthetic day file of 100,000 ledger lines, 6 users, both modes) a run
# rewrites <ledger>/totals/<day>.json from the whole day, exact to the micro-dollar, and the
# object stays under 4 KB. Locally (an atomic file) and in gs:// (the fake; rewritten under
# ifGenerationMatch: with 30% of its writes refused with 412 and two runs at once, it still
# ends equal to the ledger).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
start_gcs
day=$(date -u +%Y-%m-%d)
one_variant_batch b1.csv 2
one_variant_batch b2.csv 3 " again"

# A real line as the template, then 100,000 made from it (distinct ids, six users, two modes).
expect_exit 0 ag run b1.csv --out seed-out --ledger seed-ledger --user template
python3 - "seed-ledger/$day.jsonl" big.jsonl <<'PY'
import json, sys
tpl = json.loads(open(sys.argv[1]).readline())
for k in ("prompt_tokens", "output_tokens", "output_image_tokens", "thoughts_tokens"):
    tpl.pop(k, None)  # the costs below are made up: no token counts for verify to price
day_start = tpl["ts"] - tpl["ts"] % 86_400_000  # every line on the template's UTC day
users = ["ana@example.com", "bob", "carol", "dev-team", "cloud-build", "cloud-run"]
with open(sys.argv[2], "w") as f:
    for i in range(100_000):
        e = dict(tpl)
        e.update(id="big/%06d/v1" % i, jobId="job-big", scene_id="S-%06d" % i, userId=users[i % 6],
                 mode="live" if i % 4 else "dry_run", cost=[0.039, 0.134, 0.0][i % 3], images=1 if i % 3 != 2 else 0,
                 status="ok" if i % 3 != 2 else "BUDGET_EXCEEDED", ts=max(day_start, tpl["ts"] - 1000 * (i % 3600)))
        f.write(json.dumps(e, separators=(",", ":")) + "\n")
PY
assert_eq "$(count_lines big.jsonl)" 100000 "synthetic ledger lines"

# expected_totals LEDGER-FILE: the totals every (user, mode) must show, as JSON.
expected_totals() { python3 - "$@" <<'PY'
import json, sys
from decimal import Decimal
t = {}
for path in sys.argv[1:]:
    for l in open(path):
        e = json.loads(l)
        c = t.setdefault(e["userId"], {}).setdefault(e["mode"], {"cost_micros": 0, "images": 0, "requests": 0})
        c["cost_micros"] += int(Decimal(str(e["cost"])) * 1_000_000)
        c["images"] += e["images"]
        c["requests"] += 1
print(json.dumps(t, sort_keys=True))
PY
}
# check_totals TOTALS-FILE LEDGER-FILE: the object's users equal the ledger's sums, and it is small.
check_totals() {
  local size
  size=$(wc -c <"$1" | tr -d ' ')
  [ "$size" -le 4096 ] || fail "$1 is $size bytes after a 100,000-image day (more than 4 KB)"
  python3 - "$1" "$(expected_totals "$2")" "$day" <<'PY' || fail "the totals in $1 differ from the ledger"
import json, sys
doc = json.load(open(sys.argv[1]))
want = json.loads(sys.argv[2])
assert doc["v"] == 1 and doc["day"] == sys.argv[3], doc
got = {u: {m: {k: c[k] for k in ("cost_micros", "images", "requests")} for m, c in ms.items()} for u, ms in doc["users"].items()}
assert got == want, (got, want)
assert all(c["updated"].startswith(sys.argv[3]) for ms in doc["users"].values() for c in ms.values()), doc
assert doc["entries"] == sum(c["requests"] for ms in want.values() for c in ms.values())
PY
  echo "$1: $size bytes"
}

# 1. Local ledger: the day file holds 100,000 lines; one small run rewrites the totals.
mkdir -p ledger
cp big.jsonl "ledger/$day.jsonl"
expect_exit 0 ag run b1.csv --out out --ledger ledger --user e2e
[ -f "ledger/totals/$day.json" ] || fail "no ledger/totals/$day.json after the run"
local_size=$(check_totals "ledger/totals/$day.json" "ledger/$day.jsonl")
ls ledger/totals/*.tmp* 2>/dev/null && fail "a temp file was left beside the totals"
expect_exit 0 ag ledger verify ledger  # the totals folder is not taken for ledger lines

# 2. gs://: the same day in the fake; two runs at once while 30% of the totals writes get 412.
gcs_put bkt "ledger/$day.jsonl" big.jsonl
fake_post "$(fake_url gcs)/_fake/faults" \
  '{"rules": [{"fault": "412", "rate": 0.3, "ops": ["upload"], "object_prefix": "ledger/totals/"}]}'
ag run b1.csv --out gs://bkt/out1 --ledger gs://bkt/ledger --user e2e >o1.txt 2>e1.txt &
p1=$!
ag run b2.csv --out gs://bkt/out2 --ledger gs://bkt/ledger --user e2e-2 >o2.txt 2>e2.txt &
p2=$!
wait "$p1" || { cat e1.txt >&2; fail "the first gs:// run failed"; }
wait "$p2" || { cat e2.txt >&2; fail "the second gs:// run failed"; }
! grep -q "ledger totals" e1.txt e2.txt || { cat e1.txt e2.txt >&2; fail "a totals update gave up"; }
fake_get "$(fake_url gcs)/_fake/stats" stats.json
refused=$(python3 -c 'import json; print(json.load(open("stats.json"))["by_fault"].get("412", 0))')
[ "$refused" -ge 1 ] || fail "no totals write was refused with 412: the retry was not exercised"
fake_post "$(fake_url gcs)/_fake/faults" '{"rules": []}'
gcs_get bkt "ledger/$day.jsonl" gday.jsonl
assert_eq "$(count_lines gday.jsonl)" 100005 "lines in the gs:// day object"
gcs_get bkt "ledger/totals/$day.json" gtotals.json
gcs_size=$(check_totals gtotals.json gday.jsonl)
echo "ok: after a 100,000-line day the totals are exact and small ($local_size; $gcs_size), also with $refused writes refused (412) and two runs at once"
