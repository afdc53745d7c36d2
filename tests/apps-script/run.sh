#!/usr/bin/env bash
# Runs the Apps Script tests (samples/apps-script/Code.gs in node:vm with stand-ins for the
# Google services) with Node's built-in test runner. Needs Node 18 or later; no npm packages.
# Exit status: 0 when every test passes, non-zero otherwise (CTest reads it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v node >/dev/null 2>&1; then
    echo "tests/apps-script: node is not installed (scripts/bootstrap installs nodejs)" >&2
    exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 18 ]; then
    echo "tests/apps-script: node $(node --version) is too old; node:test needs 18 or later" >&2
    exit 1
fi
# Explicit file list: `node --test DIR` treats a directory differently across Node versions.
exec node --test "$here"/*.test.js
