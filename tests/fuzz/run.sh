#!/usr/bin/env bash
# Runs one libFuzzer target for a while on its seed corpus (scripts/fuzz and the `fuzz` ctests).
#   run.sh BINARY NAME SECONDS BUILD_DIR WORKERS
# The seeds in tests/fuzz/corpus/NAME are read, never written: new inputs go to
# BUILD_DIR/corpus/NAME, crashes, leaks and timeouts to BUILD_DIR/findings/NAME-*, the log to
# BUILD_DIR/logs/NAME.log. Exit status: libFuzzer's (0 when nothing was found).
set -euo pipefail
bin=$1 name=$2 seconds=$3 build=$4 workers=${5:-1}
here="$(cd "$(dirname "$0")" && pwd)"
seeds="$here/corpus/$name"
work="$build/corpus/$name"
mkdir -p "$work" "$build/findings" "$build/logs"
dict=()
[ -f "$here/dict/$name.dict" ] && dict=(-dict="$here/dict/$name.dict")
jobs=()
if [ "$workers" -gt 1 ]; then
  jobs=(-fork="$workers")
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
log="$build/logs/$name.log"
set +e
"$bin" "$work" "$seeds" "${dict[@]}" "${jobs[@]}" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=16384 \
  -print_final_stats=1 -artifact_prefix="$build/findings/$name-" >"$log" 2>&1
rc=$?
set -e
# The last status line (cov:/ft:/exec) and the final stats, for the caller and ctest's log.
grep -E '^#[0-9]+.*(cov:|DONE)' "$log" | tail -n 1 || true
grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
if [ $rc -ne 0 ]; then
  echo "fuzz/$name: libFuzzer exit $rc; see $log and $build/findings/" >&2
  grep -E 'ERROR|runtime error|invariant broken|Test unit written' "$log" | head -n 20 >&2 || true
fi
exit $rc
