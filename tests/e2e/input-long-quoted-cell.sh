#!/usr/bin/env bash
# A properly quoted 50 MB cell is refused for its size (one row is at most 1 MiB, as README
# says), not reported as an "unterminated quoted field"; a quote really left open still is,
# at the line where it opened. Exit 65 both, nothing written.
source "$(dirname "$0")/common.inc"
python3 - <<'PY'
with open("long.csv", "w") as f:
    f.write("scene_id,prompt\nA-1,short\nA-2,\"")
    chunk = "a \"\"quoted\"\" word,\n" * 1000
    for _ in range(50 * 1024 * 1024 // len(chunk)):
        f.write(chunk)
    f.write("\"\nA-3,short\n")
with open("open.csv", "w") as f:
    f.write("scene_id,prompt\nA-1,short\nA-2,\"never closed\n" + "x" * (2 << 20) + "\nA-3,short\n")
PY
expect_exit 65 ag run long.csv
assert_contains err.txt 'long.csv:3: cell 2 is over 1 MiB, the limit of one row (its quote opened on line 3 and is closed properly)'
if grep -q 'unterminated' err.txt; then fail "a closed quote reported as unterminated"; fi
expect_exit 65 ag run open.csv
assert_contains err.txt 'open.csv:3: unterminated quoted field (the quote opened on this line is never closed)'
for d in out ledger; do [ ! -e "$d" ] || fail "$d/ was created by a refused input"; done
echo "ok: a 50 MB quoted cell is refused as too long; an open quote as unterminated"
