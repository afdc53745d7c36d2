#!/usr/bin/env bash
# Local refs outside the batch file's folder are refused when the batch is validated, before
# anything is spent, unless --allow-local-refs names their folder:
#   1. A dry run with refs "/etc/passwd", "../secret.png" and a link inside the batch's folder
#      that points out of it exits 65, naming each row and the refs column, and the fix; no
#      output or ledger folder is made; the sentinel folder is unchanged (checksum).
#   2. A live run against the Gemini fake is refused the same way, with no request sent.
#   3. With --allow-local-refs DIR (the folder holding secret.png), "../secret.png" and the link
#      are used: the model receives the secret image's bytes; "/etc/passwd" stays refused.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/files-common.inc"

make_pngs batches/refs in.png:inside
make_pngs private secret.png:secret
ln -s "$T/private/secret.png" batches/refs/link.png
make_sentinel
cat >batches/b.csv <<'CSV'
scene_id,prompt,variants,refs
IN,inside,1,refs/in.png
ETC,etc,1,/etc/passwd
UP,up,1,../private/secret.png
LINK,link,1,refs/link.png
CSV

# 1. Dry run.
expect_exit 65 ag run batches/b.csv
assert_contains err.txt 'batches/b.csv:3: refs: "/etc/passwd" is outside the batch'"'"'s folder'
assert_contains err.txt 'batches/b.csv:4: refs: "../private/secret.png" is outside the batch'"'"'s folder'
assert_contains err.txt 'batches/b.csv:5: refs: "refs/link.png" is outside the batch'"'"'s folder'
assert_contains err.txt "private/secret.png"
assert_contains err.txt '--allow-local-refs DIR'
assert_contains err.txt 'nothing was run and nothing was spent'
if grep -q 'batches/b.csv:2' err.txt; then fail "the ref inside the batch's folder was refused"; fi
[ ! -e out ] && [ ! -e ledger ] || fail "a refused batch made output or ledger folders"
assert_sentinel_untouched

# 2. Live: refused before any request.
start_fake gemini gemini_fake.py
export GEMINI_API_KEY=e2e-key
live=(--mode live --api-base "$(fake_url gemini)" --no-ref-cache)
expect_exit 65 ag run batches/b.csv "${live[@]}"
assert_contains err.txt 'batches/b.csv:4: refs: "../private/secret.png" is outside'
fake_get "$(fake_url gemini)/_fake/log" log.json
assert_eq "$(python3 -c 'import json; print(len(json.load(open("log.json"))))')" 0 "requests sent for a refused batch"

# 3. Allowed folder.
expect_exit 65 ag run batches/b.csv "${live[@]}" --allow-local-refs "$T/private"
assert_contains err.txt 'batches/b.csv:3: refs: "/etc/passwd" is outside'
if grep -q 'b.csv:4\|b.csv:5' err.txt; then fail "refs in the allowed folder were refused"; fi
grep -v '^ETC' batches/b.csv >batches/ok.csv
expect_exit 0 ag run batches/ok.csv "${live[@]}" --allow-local-refs "$T/private" --ref-failure fail
fake_get "$(fake_url gemini)/_fake/log" log.json
secret=$(sha256sum private/secret.png | cut -d' ' -f1)
python3 - "$secret" <<'PY' || fail "the model did not receive the allowed refs"
import json, sys
log = {e['prompt'].split('\n')[0].strip(): e for e in json.load(open('log.json'))}
got = {k: v['image_sha256'] for k, v in log.items()}
assert any(k.startswith('up') and sys.argv[1] in v for k, v in got.items()), got
assert any(k.startswith('link') and sys.argv[1] in v for k, v in got.items()), got
PY
echo "ok: local refs outside the batch's folder refused (exit 65, dry run and live); allowed with --allow-local-refs"
