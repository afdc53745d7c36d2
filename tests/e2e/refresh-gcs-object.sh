#!/usr/bin/env bash
# `assetgen refresh gs://bucket/results.csv` against the GCS fake (STORAGE_EMULATOR_HOST). Proves:
#   1. the object is read and written back through the JSON API; only the expiring URL changes;
#      the write carries ifGenerationMatch = the generation that was read, so a writer that came
#      in between is never overwritten;
#   2. when that precondition fails (a 412, as when a run appended meanwhile), refresh reads the
#      object again and re-signs from the new text;
#   3. with nothing expiring, the object is not written (no upload, same generation).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refresh-common.inc"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
make_sa_key key.pem sa.json
export GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json
start_fake gcs gcs_fake.py
export STORAGE_EMULATOR_HOST="127.0.0.1:$(fake_port gcs)"

# Signed URLs for the real host (the file holds what a sheet would show), not the emulator's.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sign() { STORAGE_EMULATOR_HOST= ag refresh --sign "gs://e2e-bucket/$1" --ttl "$2" --at "$now" --quiet; }
soon=$(sign a.png 1m)
later=$(sign b.png 2d)
printf 'scene_id,images\nA,%s\nB,%s\n' "$soon" "$later" >results.csv
# upload NAME FILE: a media upload to the fake; prints the generation.
upload() { python3 - "$(fake_url gcs)" "$1" "$2" <<'PY'
import json, sys, urllib.request
base, name, path = sys.argv[1:4]
r = urllib.request.Request(base + "/upload/storage/v1/b/e2e-bucket/o?uploadType=media&name=" + name,
                           data=open(path, "rb").read(), method="POST", headers={"Content-Type": "text/csv"})
print(json.load(urllib.request.urlopen(r))["generation"])
PY
}
# object NAME OUT: the object's bytes and generation (OUT.gen).
object() { python3 - "$(fake_url gcs)" "$1" "$2" <<'PY'
import json, sys, urllib.request
base, name, out = sys.argv[1:4]
d = json.load(urllib.request.urlopen(base + "/_fake/dump?bucket=e2e-bucket&prefix=" + name))
o = [o for o in d["objects"] if o["name"] == name][0]
open(out, "w").write(o["text"])
open(out + ".gen", "w").write(str(o["generation"]) + "\n")
PY
}
gen0=$(upload res/results.csv results.csv)

# 1. Refresh through the JSON API, under ifGenerationMatch.
fake_post "$(fake_url gcs)/_fake/reset" '{"keep_objects": true}'
expect_exit 0 ag refresh gs://e2e-bucket/res/results.csv --json
python3 -c 'import json; o = json.load(open("out.txt")); assert o["urlRefreshes"] == 1 and o["written"], o' \
  || fail "refresh of the object"
object res/results.csv after.csv
grep -qF "$later" after.csv || fail "the URL expiring in 2 days changed"
! grep -qF "$soon" after.csv || fail "the URL expiring in 1 min was not re-signed"
new=$(sed -n 2p after.csv | cut -d, -f2)
verify_v4 "$new" pub.pem >/dev/null || fail "re-signed URL does not verify"
fake_get "$(fake_url gcs)/_fake/log" log.json
python3 - "$gen0" <<'PY' || fail "write precondition"
import json, sys
log = json.load(open("log.json"))
uploads = [e for e in log if e["op"] == "upload"]
assert len(uploads) == 1 and uploads[0]["status"] == 200, uploads
assert uploads[0]["preconditions"].get("ifGenerationMatch") == sys.argv[1], uploads[0]
PY

# 2. Another writer wins the first race (412): read again, sign again, write.
upload res/results.csv results.csv >/dev/null
fake_post "$(fake_url gcs)/_fake/reset" '{"keep_objects": true}'
fake_post "$(fake_url gcs)/_fake/faults" '{"rules": [{"fault": "412", "first_n": 1, "ops": ["upload"]}]}'
expect_exit 0 ag refresh gs://e2e-bucket/res/results.csv
assert_eq "$(cat out.txt)" "urlRefreshes: 1" "after a 412"
assert_contains err.txt "changed while refreshing"
fake_get "$(fake_url gcs)/_fake/log" log.json
python3 -c '
import json
log = json.load(open("log.json"))
ups = [e["status"] for e in log if e["op"] == "upload"]
reads = [e for e in log if e["op"] == "read"]
assert ups == [412, 200] and len(reads) == 2, (ups, len(reads))' || fail "412 handling"

# 3. Nothing expiring: no upload at all.
object res/results.csv before-3.csv
fake_post "$(fake_url gcs)/_fake/reset" '{"keep_objects": true}'
expect_exit 0 ag refresh gs://e2e-bucket/res/results.csv
assert_eq "$(cat out.txt)" "urlRefreshes: 0" "nothing to do"
object res/results.csv after-3.csv
assert_eq "$(cat after-3.csv.gen)" "$(cat before-3.csv.gen)" "generation after a refresh with nothing to do"
fake_get "$(fake_url gcs)/_fake/log" log.json
python3 -c 'import json; assert not [e for e in json.load(open("log.json")) if e["op"] == "upload"]' \
  || fail "an object with nothing expiring was written"
echo "ok: a gs:// results object is refreshed under ifGenerationMatch, re-read after a 412, left alone when nothing expires"
