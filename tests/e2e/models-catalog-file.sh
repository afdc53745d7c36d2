#!/usr/bin/env bash
# The model catalog is data (issue 15 item 1): the built-in core/budget/models.json prices a run,
# and --models FILE, ASSETGEN_MODELS or the config's `models` replace it. A catalog whose prices
# are doubled doubles the ledger's total; a bad catalog (an unknown key, a missing file, a
# price that is not a number) stops the run with exit 78 (a --models path that does not exist
# is a usage error, 2) naming the file, the line and the key,
# before anything is written. Fails on a build with prices in code or a lenient reader.
source "$(dirname "$0")/common.inc"

ag seed --rows 12 --refs-every 0 >b.csv 2>/dev/null
model=gemini-3.1-flash-image

expect_exit 0 ag run b.csv --model "$model" --out out1 --ledger ledger1
one=$(json_sum cost ledger1/*.jsonl)
lines=$(cat ledger1/*.jsonl | wc -l)
[ "$lines" -gt 0 ] || fail "no ledger lines"

# Every price of every tier doubled, in a copy of the built-in catalog.
python3 - "$ASSETGEN_SOURCE_DIR/core/budget/models.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for m in c["models"]:
    for tier in m.get("prices", {}).values():
        for k in ("input_per_mtok", "output_text_per_mtok", "thinking_per_mtok", "output_image_per_mtok"):
            tier[k] *= 2
        tier["per_image"] = {s: v * 2 for s, v in tier["per_image"].items()}
json.dump(c, open("double.json", "w"), indent=1)
PY
ASSETGEN_MODELS=double.json expect_exit 0 ag run b.csv --model "$model" --out out2 --ledger ledger2
two=$(json_sum cost ledger2/*.jsonl)
python3 - "$one" "$two" "$lines" <<'PY' || fail "doubled prices: $one then $two"
import sys
one, two, lines = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
# Each line's cost rounds up to the micro-dollar per component: at most 3 µ$ of difference a line.
assert one > 0 and abs(two - 2 * one) <= lines * 3e-6, (one, two)
PY

# The same through --models and through the config file.
expect_exit 0 ag run b.csv --model "$model" --out out3 --ledger ledger3 --models double.json
assert_eq "$(json_sum cost ledger3/*.jsonl)" "$two" "--models total"

# A bad catalog: exit 78, the file, line and key named, nothing written.
python3 - <<'PY'
import json
c = json.load(open("double.json"))
c["models"][0]["colour"] = "blue"
open("bad.json", "w").write(json.dumps(c, indent=1))
PY
line=$(grep -n '"colour"' bad.json | cut -d: -f1)
first=$(python3 -c 'import json; print(json.load(open("bad.json"))["models"][0]["id"])')
expect_exit 78 ag run b.csv --models bad.json --out out4 --ledger ledger4
assert_contains err.txt "bad.json:$line: models.$first.colour: unknown key"
[ ! -e out4 ] && [ ! -e ledger4 ] || fail "a bad catalog wrote something"

printf 'models = "bad.json"\n' >assetgen.toml
expect_exit 78 ag run b.csv --out out5 --ledger ledger5
assert_contains err.txt "bad.json:$line: models.$first.colour: unknown key"
rm assetgen.toml

sed 's/"input_per_mtok": 1.0,/"input_per_mtok": "one",/' double.json >words.json
expect_exit 78 ag run b.csv --models words.json --out out6 --ledger ledger6
assert_contains err.txt "input_per_mtok: expected a number of dollars, got \"one\""

expect_exit 2 ag run b.csv --models missing.json --out out7 --ledger ledger7
assert_contains err.txt "--models"
ASSETGEN_MODELS=missing.json expect_exit 2 ag run b.csv --out out7 --ledger ledger7
assert_contains err.txt "ASSETGEN_MODELS"
[ ! -e out7 ] && [ ! -e ledger7 ] || fail "a missing catalog wrote something"
echo ok
