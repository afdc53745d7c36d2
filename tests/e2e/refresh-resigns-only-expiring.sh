#!/usr/bin/env bash
# `assetgen refresh FILE --threshold 5m`: a results CSV whose signed URLs expire in 2 min, 10 min
# and 6 days, and a manifest (JSONL) with the same three. Proves:
#   1. only the URL expiring within 5 min is re-signed (urlRefreshes: 1); the file differs from
#      before in that URL's bytes only; the new URL signs the same object, at now, for 7d, and its
#      signature verifies (openssl, canonical request rebuilt independently);
#   2. in the manifest, the re-signed line's signed_url_expires follows the new URL, every other
#      byte stays; --json reports {"urlRefreshes": 1, ...};
#   3. a second run finds nothing to do and does not write (same inode), and needs no
#      credentials for it; --dry-run counts without writing;
#   4. a missing file exits 66, a --ttl over 7 days exits 2 with a clear message;
#   5. no private key material or token appears in any output.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/refresh-common.inc"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
make_sa_key key.pem sa.json
export GOOGLE_APPLICATION_CREDENTIALS=$T/sa.json

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sign() { ag refresh --sign "gs://e2e-bucket/job-1/$1" --ttl "$2" --at "$now" --quiet; }
u2m=$(sign "S 1/S_1_v1.png" 2m)
u10m=$(sign S2/S2_v1.png 10m)
u6d=$(sign S3/S3_v1.png 6d)
verify_v4 "$u2m" pub.pem >/dev/null

# A results file as a sheet imports it: quoted cells, two URLs in one cell, CRLF line ends.
printf 'scene_id,prompt,status,images\r\n' >results.csv
printf 'S 1,"product, on clean bg #1",done,"%s"\r\n' "$u2m" >>results.csv
printf 'S2,product on clean bg #2,done,"%s %s"\r\n' "$u10m" "$u6d" >>results.csv
printf 'S4,plain,done,gs://e2e-bucket/job-1/S4/S4_v1.png\r\n' >>results.csv
cp results.csv before.csv

expect_exit 0 ag refresh results.csv --threshold 5m
assert_eq "$(cat out.txt)" "urlRefreshes: 1" "stdout"
cp out.txt out-1.txt; cp err.txt err-1.txt
python3 - before.csv results.csv "$u2m" "$u10m" "$u6d" <<'PY' >new-url.txt || fail "results file"
import sys
before, after = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
u2m, u10m, u6d = (u.encode() for u in sys.argv[3:6])
assert u10m in after and u6d in after, "a URL that does not expire soon changed"
assert u2m not in after, "the URL expiring in 2 min was not re-signed"
start = before.index(u2m)
assert after[:start] == before[:start], "bytes before the re-signed URL changed"
tail = before[start + len(u2m):]
assert after.endswith(tail), "bytes after the re-signed URL changed"
new = after[start:len(after) - len(tail)]
assert b'"' not in new and b"," not in new and b" " not in new, new
print(new.decode())
PY
read -r new_url <new-url.txt
IFS=$'\t' read -r object date expires < <(verify_v4 "$new_url" pub.pem)
assert_eq "$object" "e2e-bucket/job-1/S 1/S_1_v1.png" "re-signed object"
assert_eq "$expires" "604800" "new X-Goog-Expires (7d)"
python3 - "$date" <<'PY' || fail "new X-Goog-Date is not now"
import sys, time, calendar
t = calendar.timegm(time.strptime(sys.argv[1], "%Y%m%dT%H%M%SZ"))
assert abs(t - time.time()) < 120, sys.argv[1]
PY

# The manifest: signed_url_expires (ms) follows its URL; other lines stay byte for byte.
python3 - "$u2m" "$u10m" "$u6d" <<'PY'
import json, sys, time, urllib.parse
lines = []
for i, u in enumerate(sys.argv[1:4], 1):
    q = dict(p.split("=", 1) for p in urllib.parse.urlsplit(u).query.split("&"))
    t = time.strptime(q["X-Goog-Date"], "%Y%m%dT%H%M%SZ")
    import calendar
    exp = (calendar.timegm(t) + int(q["X-Goog-Expires"])) * 1000
    lines.append(json.dumps({"v": 1, "uri": "gs://e2e-bucket/job-1/S%d.png" % i, "sha256": "ab" * 32,
                             "signed_url": u, "signed_url_expires": exp}, separators=(",", ":")))
open("manifest.jsonl", "w").write("\n".join(lines) + "\n")
PY
cp manifest.jsonl manifest-before.jsonl
expect_exit 0 ag refresh manifest.jsonl --json
cp out.txt out-2.txt; cp err.txt err-2.txt
python3 - <<'PY' || fail "manifest refresh"
import json, time
out = json.loads(open("out.txt").read())
assert out["urlRefreshes"] == 1 and out["urlsFound"] == 3 and out["written"] is True, out
before = open("manifest-before.jsonl").read().splitlines(True)
after = open("manifest.jsonl").read().splitlines(True)
assert before[1:] == after[1:], "lines that do not expire soon changed"
a, b = json.loads(after[0]), json.loads(before[0])
assert a["signed_url"] != b["signed_url"] and a["uri"] == b["uri"] and a["sha256"] == b["sha256"]
assert abs(a["signed_url_expires"] - (time.time() + 7 * 86400) * 1000) < 120_000, a["signed_url_expires"]
assert after[0] == before[0].replace(b["signed_url"], a["signed_url"]).replace(
    str(b["signed_url_expires"]), str(a["signed_url_expires"])), "other bytes of the line changed"
PY

# Nothing left to do: no write (same inode), and no credentials needed for that.
inode=$(stat -c %i results.csv)
GOOGLE_APPLICATION_CREDENTIALS= GCE_METADATA_HOST=127.0.0.1:1 expect_exit 0 ag refresh results.csv --json
python3 -c 'import json; o = json.load(open("out.txt")); assert o["urlRefreshes"] == 0 and o["written"] is False, o' \
  || fail "second run"
assert_eq "$(stat -c %i results.csv)" "$inode" "inode after a run with nothing to do"
cp before.csv dry.csv
expect_exit 0 ag refresh dry.csv --dry-run
assert_eq "$(cat out.txt)" "urlRefreshes: 1" "dry run"
cmp -s dry.csv before.csv || fail "--dry-run wrote the file"

expect_exit 66 ag refresh missing.csv
assert_contains err.txt "missing.csv"
expect_exit 2 ag refresh results.csv --ttl 8d
assert_contains err.txt "longer than 7d"
expect_exit 2 ag refresh results.csv --ttl 5m --threshold 5m
expect_exit 2 ag refresh
assert_contains err.txt "--sign"

assert_no_secrets key.pem out-1.txt err-1.txt out-2.txt err-2.txt results.csv manifest.jsonl
echo "ok: only the URL expiring within 5 min was re-signed (urlRefreshes 1); every other byte stayed"
