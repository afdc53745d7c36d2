#!/usr/bin/env bash
# The table printer lines columns up: `ledger sum` prints a table whose text columns start, and
# whose number columns end, exactly under their titles, with a rule and a TOTAL line; `ledger
# show` on a terminal (a pseudo-terminal from script(1)) prints the same kind of table, times
# and cost included, and no tabs. Fails if cells are not padded to the widest cell, numbers are
# not right-aligned, or show prints tab-separated lines to a terminal.
source "$(dirname "$0")/common.inc"

# No reference URLs in the batches: fetching refs is not what this checks (and needs a network).
ag seed --rows 10 --refs-every 0 >b.csv 2>/dev/null
ag seed --rows 4 --refs-every 0 >c.csv 2>/dev/null
expect_exit 0 ag run b.csv --job-id a-rather-long-job-name
expect_exit 0 ag run c.csv --job-id j2

# Checks that every cell of each line starts (left columns) or ends (right columns) where its
# column's title does. Cells are separated by two spaces or more; a cell may hold one space.
check_table() { python3 - "$1" "$2" <<'PY'
import re, sys
path, aligns = sys.argv[1], sys.argv[2]
lines = [l.rstrip('\r\n') for l in open(path) if l.strip()]
spans = lambda l: [m.span() for m in re.finditer(r'\S+(?: \S+)*', l)]
head = spans(lines[0])
assert len(head) == len(aligns), (lines[0], aligns)
for line in lines[1:]:
    assert '\t' not in line, repr(line)
    cells = spans(line)
    assert len(cells) == len(head), (line, head)
    for (hs, he), (cs, ce), a in zip(head, cells, aligns):
        assert (cs == hs) if a == 'l' else (ce == he), (line, lines[0], a)
print(len(lines))
PY
}

expect_exit 0 ag ledger sum --by job
assert_eq "$(check_table out.txt lrrrr)" 5 "sum table lines (header, 2 jobs, rule, TOTAL)"
sed -n 2p out.txt | grep -q '^a-rather-long-job-name  ' || fail "job column: $(sed -n 2p out.txt)"
sed -n 4p out.txt | grep -qE '^-+  -+  -+  -+  -+$' || fail "rule line: $(sed -n 4p out.txt)"
sed -n 5p out.txt | grep -qE '^TOTAL +26 +26 +\$[0-9]+\.[0-9]{6} +\$[0-9]+\.[0-9]{6}$' || fail "TOTAL line: $(sed -n 5p out.txt)"

command -v script >/dev/null || { echo "skip: no script(1) for a pseudo-terminal"; exit 0; }
script -qec "'$ASSETGEN' ledger show --limit 5" /dev/null >tty.txt 2>&1 || fail "show on a terminal: $(cat tty.txt)"
grep -q 'time (UTC) ' tty.txt || fail "no table header on a terminal: $(cat tty.txt)"
grep -v 'showing the last' tty.txt >table.txt
assert_eq "$(check_table table.txt llllrlllrr)" 6 "show table lines (header and 5 entries)"
echo "ok: sum and show print aligned tables, numbers right-aligned"
