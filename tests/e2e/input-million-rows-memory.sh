#!/usr/bin/env bash
# Memory stays flat in the number of rows: 1,000,000 rows (52 MB of CSV, made by seed) stay under
# 100 MB peak RSS (/usr/bin/time -f %M) both when the budget refuses the run (exit 3, nothing
# spent) and in a partial run (--budget-policy partial: what fits runs, the rest end as
# BUDGET_EXCEEDED) that writes --results (a line per row, streamed to its file) and --report (a
# card per image, streamed to a temp file and put around its head and tail at the end). ROWS
# overrides the count for a quicker local check.
source "$(dirname "$0")/common.inc"
if sanitized; then echo "skip: peak RSS means nothing under AddressSanitizer" >&2; exit 77; fi
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (scripts/bootstrap --test installs it)"
rows=${ROWS:-1000000}
limit_kb=100000

ag seed --rows "$rows" -o big.csv 2>/dev/null
peak() { /usr/bin/time -f '%M' -o "$1.rss" "$ASSETGEN" "${@:2}" >"$1.out" 2>"$1.err"; }

set +e; peak refused run big.csv --daily-budget-usd 1 --quiet; got=$?; set -e
assert_eq "$got" 3 "exit of the refused run"
assert_contains refused.err "Nothing was run"
rss=$(tail -1 refused.rss)
echo "refused, $rows rows: peak RSS $rss KB" >&2
[ "$rss" -lt "$limit_kb" ] || fail "refused run: peak RSS $rss KB is over $limit_kb KB"

set +e; peak partial run big.csv --daily-budget-usd 0.5 --budget-policy partial --quiet --json \
  --results partial.csv --report partial.html; got=$?; set -e
assert_eq "$got" 3 "exit of the partial run"
rss=$(tail -1 partial.rss)
echo "partial, $rows rows: peak RSS $rss KB" >&2
python3 - "$rows" <<'PY' || fail "partial run summary"
import json, sys
s = json.load(open("partial.out"))
assert s["rows"] == int(sys.argv[1]), s["rows"]
assert 0 < s["imagesGenerated"] < 100, s["imagesGenerated"]
assert s["status"] == "budget_exceeded" and s["rowsFailed"] == s["rows"] - s["rowsOk"], s["status"]
assert s["budget"]["overshootUsd"] == 0, s["budget"]
PY
[ "$rss" -lt "$limit_kb" ] || fail "partial run: peak RSS $rss KB is over $limit_kb KB"
# --results streams its rows to a temp file as they finish (it held them all until the end:
# 287 MB peak for this run), then puts the file in place: a header and one line per row.
assert_eq "$(count_lines partial.csv)" $((rows + 1)) "lines of the partial run's --results"
assert_eq "$(grep -c ',BUDGET_EXCEEDED,' partial.csv)" \
  "$(python3 -c 'import json; s=json.load(open("partial.out")); print(s["rowsFailed"])')" \
  "BUDGET_EXCEEDED rows in --results"
# --report streams its cards the same way (it held them all until the end): one card per image,
# counted in the page's header, and the page is whole.
python3 - <<'PY' || fail "the partial run's --report"
import json, os, re
s = json.load(open("partial.out"))
cards = ok = 0
header = None
with open("partial.html", encoding="utf-8") as page:  # line by line: the page is ~1 GB
    for line in page:
        if line.startswith('<article class="card '):
            cards += 1
            ok += line.startswith('<article class="card status-ok"')
        elif header is None and line.startswith('<body data-cards="'):
            header = int(re.match(r'<body data-cards="(\d+)">', line).group(1))
assert cards == s["imagesPlanned"], (cards, s["imagesPlanned"])
assert header == cards, f"the header counts {header} cards of {cards}"
assert ok == s["imagesGenerated"], "ok cards"
with open("partial.html", "rb") as page:
    page.seek(-8, os.SEEK_END)
    assert page.read() == b"</html>\n", "the page is not whole"
print(f"report: {cards} cards, {os.path.getsize('partial.html') // 1000000} MB")
PY
rm -f partial.html
echo "ok: $rows rows under $limit_kb KB peak RSS, refused and partial (with --results and --report)"
