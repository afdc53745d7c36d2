#!/usr/bin/env bash
# The container's case (issue 19): the real binary as uid 10001, with HOME a root-owned
# read-only folder (as Cloud Build's /builder/home), then with HOME unset, and no XDG_* or
# ASSETGEN_SPOOL_DIR: the gs:// flows (run, resume, budget leases, ledger sum and verify)
# against the GCS fake work, the spool goes to a private <TMPDIR>/assetgen-10001 (0700, owned
# by 10001) with a one-line notice, and a temp folder another user owns is refused, naming it.
# Needs root to switch uids: exit 77 (CTest's skip, SKIP_RETURN_CODE) otherwise.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
  echo "skip: switching to uid 10001 needs root and setpriv (util-linux)"
  exit 77
fi
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs
unset ASSETGEN_SPOOL_DIR XDG_STATE_HOME XDG_CACHE_HOME

# uid 10001 can enter $T, run a copy of the binary, and write only its TMPDIR (sticky, as /tmp).
chmod 0755 "$T"
mkdir -p "$T/bin" "$T/home" "$T/tmp"
install -m 0755 "$ASSETGEN" "$T/bin/assetgen"
chmod 0555 "$T/home"      # root's, read-only: like /builder/home for USER 10001
chmod 1777 "$T/tmp"
as_10001() { setpriv --reuid 10001 --regid 10001 --clear-groups env TMPDIR="$T/tmp" "$@"; }
agu() { as_10001 HOME="$T/home" "$T/bin/assetgen" "$@"; }
agu_nohome() { as_10001 env -u HOME "$T/bin/assetgen" "$@"; }
as_10001 test -w "$T/home" && fail "the test's HOME is writable by uid 10001"

ag seed >batch.csv 2>/dev/null
gcs_put bkt in/batch.csv batch.csv
day=$(date -u +%Y-%m-%d)
spool="$T/tmp/assetgen-10001/state/assetgen/spool"
args=(run gs://bkt/in/batch.csv --out gs://bkt/out --ledger gs://bkt/ledger --results gs://bkt/res/results.csv
      --daily-budget-usd 50 --user ci)

# 1. A root-owned, read-only HOME: the run completes; the spool is the private temp folder.
expect_exit 0 agu "${args[@]}"
assert_contains err.txt "spool: \$HOME/.local/state is not writable (\"$T/home/.local/state/assetgen/spool\": Permission denied); using $spool"
[ -d "$spool" ] || fail "no spool at $spool"
assert_eq "$(stat -c '%u %a' "$T/tmp/assetgen-10001")" "10001 700" "owner and mode of the per-user temp folder"
[ ! -e "$T/home/.local" ] || fail "something was written into the read-only HOME"
gcs_names bkt out/ >names.txt
assert_eq "$(grep -c '\.png$' names.txt)" 199 "PNG objects"
gcs_get bkt "ledger/$day.jsonl" day.jsonl
assert_eq "$(json_sum images day.jsonl)" 199 "ledger images"
gcs_names bkt "ledger/budget/$day/" >leases.txt
grep -qx "ledger/budget/$day/ci.json" leases.txt || fail "no lease document ledger/budget/$day/ci.json"

# 2. HOME unset: the same command resumes from the same spool, nothing made or spent twice.
expect_exit 0 agu_nohome "${args[@]}" --json
assert_contains err.txt "spool: HOME and XDG_STATE_HOME are not set; using $spool"
assert_contains err.txt "already finished"
gcs_get bkt "ledger/$day.jsonl" day2.jsonl
cmp -s day.jsonl day2.jsonl || fail "the ledger changed on the resumed run"

# 3. An interrupted job resumes: a new batch, the first run stopped by the budget (exit 3 under
#    --budget-policy partial), the second with more budget makes only what is missing.
ag seed --rows 30 --refs-every 0 >batch2.csv 2>/dev/null
gcs_put bkt in/batch2.csv batch2.csv
args2=(run gs://bkt/in/batch2.csv --out gs://bkt/out --ledger gs://bkt/ledger --user ci2 --budget-policy partial)
expect_exit 3 agu_nohome "${args2[@]}" --daily-budget-usd 1
first=$(python3 -c 'import json,sys; print(sum(json.loads(l).get("images",0) for l in open(sys.argv[1]) if "\"ci2\"" in l))' \
  <(gcs_get bkt "ledger/$day.jsonl" /dev/stdout))
[ "$first" -gt 0 ] && [ "$first" -lt 60 ] || fail "the budget-limited run made $first images"
expect_exit 0 agu "${args2[@]}" --daily-budget-usd 50
gcs_get bkt "ledger/$day.jsonl" day3.jsonl
assert_eq "$(python3 -c 'import json,sys; print(sum(json.loads(l).get("images",0) for l in open(sys.argv[1]) if "\"ci2\"" in l))' day3.jsonl)" 60 \
  "images of the resumed job in the ledger (each once)"

# 4. The ledger from gs:// as that user, HOME unset.
expect_exit 0 agu_nohome ledger sum gs://bkt/ledger --json
assert_eq "$(python3 -c 'import json; print(json.load(open("out.txt"))["total"]["images"])')" 259 \
  "images in ledger sum --json (199 + 60)"
expect_exit 0 agu_nohome ledger verify gs://bkt/ledger

# 5. A per-user temp folder that another user owns is refused, naming it.
mkdir -m 0700 "$T/tmp2" && chmod 1777 "$T/tmp2" && mkdir -m 0700 "$T/tmp2/assetgen-10001"
set +e
setpriv --reuid 10001 --regid 10001 --clear-groups env -u HOME TMPDIR="$T/tmp2" "$T/bin/assetgen" "${args[@]}" >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a temp folder owned by root was used"
assert_contains err.txt "$T/tmp2/assetgen-10001: the folder belongs to uid 0, not to this user (uid 10001)"
echo "ok: uid 10001 with a read-only root-owned HOME and with no HOME: run, resume, leases, ledger sum/verify through gs://; another user's temp folder refused (exit $rc)"
