#!/usr/bin/env bash
# Issue 16's must-show for the Context (core/context/context.hpp, built by cli/context.cpp):
# nothing below cli/ reads the environment or builds a transport on its own. Fails, naming the
# file and line, when core/ or cli/ has
#   - std::getenv / getenv( outside the allowed files below,
#   - Env::process() outside the Context's builder,
#   - a CurlTransport constructed (CurlTransport(, CurlTransport{, make_unique<...CurlTransport>,
#     or an object/member of that type) outside the builder,
#   - the storage emulator variables read outside the places that resolve them.
# Comment lines are not code and are skipped. Then it checks itself: a planted violation of
# each kind in a scratch tree must be found (a check that cannot fail is no check).
set -uo pipefail
root="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"

# Allowed, with the reason.
allowed_getenv=(
  core/auth/env.cpp      # defines auth::Env::process(), which only cli/context.cpp calls
  cli/support.cpp        # NO_COLOR, TERM, ASSETGEN_CONFIG, ASSETGEN_<OPTION>: the CLI's own
  cli/run_steps.cpp      # USER, the default of --user: the CLI's own
)
allowed_env_process=(
  core/auth/env.cpp      # its definition
  cli/context.cpp        # the Context's builder
)
allowed_curl=(
  core/net/curl_transport.hpp  # the class itself
  core/net/curl_transport.cpp
  cli/context.hpp              # the one CurlTransport of the process (ProcessContext)
  cli/context.cpp
)
allowed_emulator=(
  core/storage/gcs_wire.cpp    # resolve_gcs_endpoint, called by the Context's resolve_places
  core/auth/chain.cpp          # the credential chain's emulator step (reads the Env it is given)
  core/context/context.cpp     # resolve_places
)

# Lines of code (not comments) under dir/{core,cli} matching the ERE, minus the allowed files.
find_code() {
  local dir="$1" pattern="$2"
  shift 2
  local allowed=("$@")
  (cd "$dir" && grep -rnE --include='*.cpp' --include='*.hpp' "$pattern" core cli 2>/dev/null) |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' |
    while IFS= read -r line; do
      local file="${line%%:*}" ok=0
      for a in "${allowed[@]}"; do
        [ "$file" = "$a" ] && ok=1
      done
      [ "$ok" = 1 ] || printf '%s\n' "$line"
    done
}

check() {
  local dir="$1" bad=0 hits
  hits=$(find_code "$dir" '(^|[^A-Za-z_])getenv[[:space:]]*\(' "${allowed_getenv[@]}")
  [ -n "$hits" ] && { printf 'getenv outside the Context builder:\n%s\n' "$hits"; bad=1; }
  hits=$(find_code "$dir" 'Env::process[[:space:]]*\(' "${allowed_env_process[@]}")
  [ -n "$hits" ] && { printf 'Env::process() outside the Context builder:\n%s\n' "$hits"; bad=1; }
  hits=$(find_code "$dir" 'CurlTransport[[:space:]]*[({>]|CurlTransport[[:space:]]+[A-Za-z_]' \
    "${allowed_curl[@]}")
  [ -n "$hits" ] && { printf 'CurlTransport built outside the Context builder:\n%s\n' "$hits"; bad=1; }
  hits=$(find_code "$dir" '"(STORAGE_EMULATOR_HOST|CLOUD_STORAGE_EMULATOR_ENDPOINT)"' \
    "${allowed_emulator[@]}")
  [ -n "$hits" ] && { printf 'storage emulator variables read outside the Context:\n%s\n' "$hits"; bad=1; }
  return "$bad"
}

if ! check "$root"; then
  echo "context_boundary: FAILED (pass what is needed down from the Context instead;" \
       "see core/context/context.hpp)" >&2
  exit 1
fi

# Self-check: each kind of violation, planted in a scratch tree, is found; comments are not.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/core/x" "$scratch/cli"
plant() {
  rm -f "$scratch/core/x/"*
  printf '%s\n' "$1" > "$scratch/core/x/planted.cpp"
  if check "$scratch" >/dev/null; then
    echo "context_boundary: self-check: did not find: $1" >&2
    exit 1
  fi
}
plant '    const char* d = std::getenv("HOME");'
plant '    auto env = auth::Env::process();'
plant '    auto t = std::make_unique<net::CurlTransport>();'
plant '    net::CurlTransport m_transport;'
plant '    : m_transport(net::CurlTransportOptions{}), t2(net::CurlTransport(o)) {}'
plant '    std::string e = env.get("STORAGE_EMULATOR_HOST");'
rm -f "$scratch/core/x/"*
printf '%s\n' '// std::getenv("HOME"), Env::process(), CurlTransport( in a comment' \
  > "$scratch/core/x/comment.cpp"
if ! check "$scratch" >/dev/null; then
  echo "context_boundary: self-check: a comment was taken for code" >&2
  exit 1
fi
echo "context_boundary: ok (no environment read or transport built below cli/ outside the Context)"
