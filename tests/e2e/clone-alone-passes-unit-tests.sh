#!/usr/bin/env bash
# A clone of the repository with nothing beside it builds and passes the unit tests that read
# data files (Google's conformance vectors under tests/data/gcs): the signing, auth and storage
# tests. `git clone` of the source folder into an empty temporary folder, so only what is
# committed is there (a test that read a folder beside the checkout, or an uncommitted file, fails here). Builds
# only the unit-test binary, for those modules, with ccache when there is one (the first run
# compiles ~40 files; later runs are cache hits). Skipped (exit 77) when the source folder is
# not a git checkout or git is missing.
source "$(dirname "$0")/common.inc"

if ! command -v git >/dev/null || ! git -C "$ASSETGEN_SOURCE_DIR" rev-parse --git-dir >/dev/null 2>&1; then
  echo "skip: $ASSETGEN_SOURCE_DIR is not a git checkout (or git is missing); nothing to clone" >&2
  exit 77
fi
if [ -n "$(git -C "$ASSETGEN_SOURCE_DIR" status --porcelain --untracked-files=no -- tests core CMakeLists.txt)" ]; then
  echo "note: uncommitted changes in $ASSETGEN_SOURCE_DIR are not in the clone; it tests HEAD" >&2
fi

# $T/alone holds the clone and nothing else: no folder of data sits beside it.
mkdir alone
git clone --quiet "$ASSETGEN_SOURCE_DIR" alone/assetgen
src=$T/alone/assetgen
[ -f "$src/tests/data/gcs/v4_signatures.json" ] || fail "the clone has no tests/data/gcs/v4_signatures.json"
assert_eq "$(ls -A "$T/alone")" "assetgen" "what is beside the clone"

launcher=()
if command -v ccache >/dev/null; then
  # Paths below $T are hashed relative to it and the working directory is left out, so the next
  # run, in another temporary folder, hits the cache; the sloppiness lets it cache files compiled
  # with the precompiled header (cmake/precompiled_headers.cmake).
  export CCACHE_BASEDIR=$T CCACHE_NOHASHDIR=1 CCACHE_SLOPPINESS=pch_defines,time_macros
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$src" -B "$src/build" -G Ninja ${launcher[@]+"${launcher[@]}"} \
  -DASSETGEN_TEST_MODULES="signing;auth;storage" >configure.txt 2>&1 ||
  { cat configure.txt >&2; fail "cmake configure of the clone failed"; }
started=$(date +%s.%N)
cmake --build "$src/build" --target assetgen_tests -- -j"$(nproc)" >build.txt 2>&1 ||
  { tail -50 build.txt >&2; fail "building the clone's unit tests failed"; }
echo "built the clone's unit tests in $(elapsed_since "$started") s" >&2

# Run from an unrelated folder: the tests find their data through the clone's own path.
mkdir elsewhere && cd elsewhere
"$src/build/tests/assetgen_tests" "[signing],[auth],[storage]~[integration]" >../unit.txt 2>&1 ||
  { tail -60 ../unit.txt >&2; fail "the clone's unit tests failed"; }
cd "$T"
grep -q "All tests passed" unit.txt || { cat unit.txt >&2; fail "no 'All tests passed' line"; }
# The conformance cases ran (they would be skipped silently if a data file were empty).
"$src/build/tests/assetgen_tests" "signing: every V4 conformance vector gives the expected URL" -s >vec.txt 2>&1 ||
  { tail -40 vec.txt >&2; fail "the conformance vector test failed in the clone"; }
grep -q "Simple GET" vec.txt || fail "the conformance vector test did not read the vectors"
echo "ok: a lone clone builds and passes its signing, auth and storage unit tests ($(grep 'All tests passed' unit.txt))"
