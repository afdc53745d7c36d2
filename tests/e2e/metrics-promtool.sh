#!/usr/bin/env bash
# The metrics file is Prometheus text exposition that `promtool check metrics` accepts without a
# lint warning (counters end in _total, HELP on every family, escaped label values). The file
# comes from `assetgen run --metrics-file` once run has the flag, and always from the test
# binary's hidden [metrics-fixture] case, which renders every family with awkward label values
# (quote, backslash, newline) and a spilled latency histogram. promtool comes from Debian's
# `prometheus` package (scripts/bootstrap installs it).
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

command -v promtool >/dev/null || { echo "skip: promtool is not installed (apt-get install prometheus; scripts/bootstrap does)"; exit 0; }

# promtool must be able to fail here, or a pass would mean nothing.
printf '# HELP x_total x\n# TYPE x_total counter\nx_total{a="b} 1\n' >broken.prom
if promtool check metrics <broken.prom >/dev/null 2>&1; then fail "promtool accepted a broken file"; fi
printf '# HELP x a counter without _total\n# TYPE x counter\nx 1\n' >lint.prom
if promtool check metrics <lint.prom >/dev/null 2>&1; then fail "promtool did not lint a counter without _total"; fi

check_metrics() {  # FILE WHAT
  [ -s "$1" ] || fail "$2: no metrics file"
  set +e; promtool check metrics <"$1" >promtool.txt 2>&1; local rc=$?; set -e
  [ "$rc" -eq 0 ] || { cat promtool.txt >&2; fail "$2: promtool check metrics exited $rc"; }
  [ ! -s promtool.txt ] || { cat promtool.txt >&2; fail "$2: promtool has remarks"; }
  python3 - "$1" <<'PY' || fail "$2: histogram"
import re, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n")
buckets = [(m.group(1), int(m.group(2))) for m in
           re.finditer(r'^assetgen_request_duration_seconds_bucket\{.*le="([^"]+)"\} (\d+)$', text, re.M)]
assert buckets and buckets[-1][0] == "+Inf", buckets
counts = [c for _, c in buckets]
assert counts == sorted(counts), counts
count = int(re.search(r'^assetgen_request_duration_seconds_count\{.*\} (\d+)$', text, re.M).group(1))
assert counts[-1] == count, (counts[-1], count)
assert not re.search(r'^[^#].*\} \S+ \S+$', text, re.M), "a sample has a timestamp"
PY
}

tests_bin="${ASSETGEN_BUILD_DIR:-}/tests/assetgen_tests"
checked=0
# (Catch2's --list-* exits with the number of tests it lists.)
if [ -x "$tests_bin" ] && { "$tests_bin" "[metrics-fixture]" --list-test-names-only || true; } | grep -q "metrics file"; then
  ASSETGEN_METRICS_FIXTURE="$T/textfile/fixture.prom" timeout 120 "$tests_bin" "[metrics-fixture]" >fixture.txt 2>&1 ||
    { cat fixture.txt >&2; fail "the metrics fixture failed"; }
  check_metrics textfile/fixture.prom "fixture"
  grep -qF 'model="odd \"model\"\\name\nsecond line"' textfile/fixture.prom || fail "label value escaping"
  checked=$((checked + 1))
fi

if ag run --help 2>/dev/null >help.txt && grep -q -- '--metrics-file' help.txt; then
  ag seed >batch.csv 2>/dev/null
  expect_exit 0 timeout 300 "$ASSETGEN" run batch.csv --out out --ledger ledger --quiet --metrics-file textfile/assetgen.prom
  check_metrics textfile/assetgen.prom "run --metrics-file"
  grep -q '^assetgen_images_total{.*outcome="generated"} 199$' textfile/assetgen.prom || fail "199 images generated"
  # Replaced whole: no temp file left beside it for the textfile collector to trip over.
  [ "$(ls textfile | grep -v '^fixture.prom$')" = "assetgen.prom" ] || { ls -la textfile >&2; fail "files left in the textfile folder"; }
  checked=$((checked + 1))
fi

[ "$checked" -gt 0 ] || { echo "skip: neither run --metrics-file nor the test binary's [metrics-fixture] is built"; exit 0; }
echo "ok: promtool check metrics accepts the metrics file ($checked checked)"
