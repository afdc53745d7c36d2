#!/usr/bin/env bash
# Answers larger than an image of the requested size can need are refused as they arrive, never
# buffered whole: three 40 MB answers at --concurrency 3 (the default 1K model's cap is 16 MiB),
# with and without a Content-Length, end as MODEL_ERROR (not retried: it would be paid again),
# and the process's peak RSS stays small.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --huge-bytes $((40 << 20))
base=$(fake_url gemini)
export GEMINI_API_KEY=e2e-key
for fault in huge huge-chunked; do
  { echo "scene_id,prompt,variants"
    for i in 1 2 3; do echo "R$i,a lamp $i [fault:$fault],1"; done; } >"$fault.csv"
  python3 - "$ASSETGEN" "$fault.csv" "$base" >"$fault.rss" 2>err.txt <<'PY' || { cat err.txt >&2; fail "$fault"; }
import resource, subprocess, sys
rc = subprocess.run([sys.argv[1], "run", sys.argv[2], "--mode", "live", "--api-base", sys.argv[3],
                     "--concurrency", "3", "--results", "r.csv"], stderr=open("run.err", "w")).returncode
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("%d %.0f" % (rc, peak_mb))
PY
  read -r rc peak <"$fault.rss"
  cat run.err
  [ "$rc" -eq 1 ] || fail "$fault: exit $rc, expected 1"
  assert_contains run.err 'MODEL_ERROR'
  assert_contains run.err 'response body over 16777216 bytes'
  [ "$(grep -c MODEL_ERROR r.csv)" -eq 3 ] || fail "$fault: not 3 MODEL_ERROR rows"
  sanitized || [ "$peak" -lt 150 ] || fail "$fault: peak RSS ${peak} MB"  # ASan's shadow: no limit
  echo "$fault: peak RSS ${peak} MB"
done
fake_get "$base/_fake/stats" stats.json
python3 -c 'import json; s = json.load(open("stats.json")); assert s["requests"] == 6, s' || fail "retried"
echo "ok: 40 MB answers refused at the 16 MiB cap, not retried, peak RSS under 150 MB"
