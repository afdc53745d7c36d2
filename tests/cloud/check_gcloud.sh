#!/usr/bin/env bash
# Google's own parser on the samples, offline: gcloud reads a build config (`gcloud builds
# submit --config`) and a Cloud Run job (`gcloud run jobs replace`) into its API messages before
# it needs credentials, and names an unknown field (".steps[2].allowExitCode: unused",
# "Failed to parse value(s) in protobuf [Job]"). Run with an empty gcloud configuration (no
# account), each command stops at "no active account": that is a pass; a parse error is a
# failure. A copy with a misspelled field must fail, so the check is known to bite.
# Without gcloud on PATH: exit 77 (CTest's skip) with a notice; it cannot be installed from
# Debian's archive (Google's own apt repository or tarball: cloud.google.com/sdk/docs/install).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if ! command -v gcloud >/dev/null 2>&1; then
  echo "skip: gcloud is not installed; the samples were not parsed by gcloud (tests/cloud/check_samples.sh still checks them)"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/assetgen-gcloud-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export CLOUDSDK_CONFIG="$tmp/config" CLOUDSDK_CORE_DISABLE_PROMPTS=1 CLOUDSDK_CORE_PROJECT=test-project
unset GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_AUTH_ACCESS_TOKEN_FILE CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE
failures=0

# parses KIND FILE: 0 when gcloud got past parsing to the missing credentials, 1 on a parse error.
parses() {
  local kind=$1 file=$2 out
  if [ "$kind" = build ]; then
    out=$(timeout 120 gcloud builds submit --config "$file" --no-source 2>&1 || true)
  else
    out=$(timeout 120 gcloud run jobs replace "$file" --region us-central1 2>&1 || true)
  fi
  if grep -q "interpreting .* as build config\|Failed to parse\|unused\|Unknown field\|could not be parsed" <<<"$out"; then
    echo "$out" | grep -v '^$' | tail -3 >"$tmp/last-error"
    return 1
  fi
  if ! grep -qi "active account\|credential\|gcloud auth login" <<<"$out"; then
    echo "$out" | tail -3 >"$tmp/last-error"
    echo "FAIL: $file: gcloud neither parsed it to the credentials step nor reported a parse error:" >&2
    cat "$tmp/last-error" >&2
    failures=$((failures + 1))
  fi
  return 0
}

for f in cloudbuild.yaml cloudbuild-vertex.yaml; do
  parses build "$root/samples/cloud/$f" || { echo "FAIL: samples/cloud/$f: $(cat "$tmp/last-error")" >&2; failures=$((failures + 1)); }
done
for f in cloud-run-job.yaml cloud-run-job-sharded.yaml; do
  parses job "$root/samples/cloud/$f" || { echo "FAIL: samples/cloud/$f: $(cat "$tmp/last-error")" >&2; failures=$((failures + 1)); }
done
# The parser bites: a misspelled step field and a misspelled task field are reported.
sed 's/allowExitCodes:/allowExitCode:/' "$root/samples/cloud/cloudbuild.yaml" >"$tmp/bad-build.yaml"
sed 's/maxRetries:/maxRetry:/' "$root/samples/cloud/cloud-run-job.yaml" >"$tmp/bad-job.yaml"
parses build "$tmp/bad-build.yaml" && { echo "FAIL: gcloud accepted allowExitCode (misspelled)" >&2; failures=$((failures + 1)); }
parses job "$tmp/bad-job.yaml" && { echo "FAIL: gcloud accepted maxRetry (misspelled)" >&2; failures=$((failures + 1)); }
[ "$failures" = 0 ] || exit 1
echo "samples/cloud: gcloud $(gcloud --version 2>/dev/null | head -1 | awk '{print $NF}') parses both build files and both jobs; misspelled fields are reported"
