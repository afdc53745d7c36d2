#!/usr/bin/env bash
# --out and --ledger may be one folder, but then the job folder <out>/<job> must not take a name
# the ledger keeps there. `--job-id totals` made the job's lock file the day totals' lock file:
# the run made every image, then waited for itself forever at its end (no summary, no exit).
# `--job-id 2026-12-07.jsonl` took the day file's name: every ledger line failed (a live run's
# paid images went unrecorded). Now each is refused before anything is made or spent (exit 2).
source "$(dirname "$0")/common.inc"
printf 'scene_id,prompt,variants\nA,hello,1\nB,world,1\n' >b.csv
day=$(date -u +%Y-%m-%d)
for id in totals TOTALS .budget budget "$day.jsonl"; do
  rm -rf same
  # timeout: the old code hung here; 124 would be a hang, not a refusal
  expect_exit 2 timeout 60 "$ASSETGEN" run b.csv --out same --ledger same --job-id "$id" -q
  assert_contains err.txt "--job-id: \"$id\" is a name the ledger keeps in its folder"
  assert_contains err.txt "give another --job-id"
  [ ! -e "same/$id/A" ] || fail "$id: an image was made before the refusal"
done
# The same folder through another spelling (a symlink, a trailing slash) is the same folder.
rm -rf same && mkdir same && ln -s same alias
expect_exit 2 timeout 60 "$ASSETGEN" run b.csv --out alias/ --ledger same --job-id totals -q
assert_contains err.txt "is a name the ledger keeps"
# Other job ids in one shared folder, and these ids with separate folders, still run.
expect_exit 0 timeout 60 "$ASSETGEN" run b.csv --out same --ledger same --job-id spring -q
[ -f same/spring/A/A_v1.png ] || fail "job spring made no image"
expect_exit 0 timeout 60 "$ASSETGEN" run b.csv --out out --ledger ledger --job-id totals -q
[ -f out/totals/A/A_v1.png ] || fail "job totals in its own --out made no image"
assert_eq "$(count_lines "ledger/$day.jsonl")" 2 "ledger lines of job totals"
echo ok
