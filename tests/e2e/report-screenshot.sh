#!/usr/bin/env bash
# The HTML contact sheet of the default seed batch has one card per image (199), renders in a
# headless Chromium (a real screenshot, with the thumbnails loaded from the run's images), and
# needs nothing but the page and the images. The report comes from `assetgen run --report`
# once run has the flag; until then from the test binary's hidden [report-fixture] case, fed
# with cards built here from the batch and the run's events (the data run will use). Chromium
# comes from Debian's `chromium` package (scripts/bootstrap installs it).
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

chromium_bin=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$chromium_bin" ] || { echo "skip: chromium is not installed (apt-get install chromium; scripts/bootstrap does)"; exit 0; }

ag seed >batch.csv 2>/dev/null
if ag run --help 2>/dev/null >help.txt && grep -q -- '--report' help.txt; then
  expect_exit 0 timeout 300 "$ASSETGEN" run batch.csv --out out --ledger ledger --quiet --report report.html
  made_by="run --report"
else
  tests_bin="${ASSETGEN_BUILD_DIR:-}/tests/assetgen_tests"
  # (Catch2's --list-* exits with the number of tests it lists.)
  if [ ! -x "$tests_bin" ] || ! { "$tests_bin" "[report-fixture]" --list-test-names-only || true; } | grep -q "HTML report"; then
    echo "skip: neither run --report nor the test binary's [report-fixture] is built"
    exit 0
  fi
  expect_exit 0 timeout 300 "$ASSETGEN" run batch.csv --out out --ledger ledger --quiet --events events.jsonl --json
  cp out.txt summary.json
  # One card per image of the batch, in input order: made (item_complete), failed (error), or
  # not run (no event).
  python3 - <<'PY'
import csv, json
summary = json.load(open("summary.json"))
done, failed = {}, {}
for line in open("events.jsonl"):
    e = json.loads(line)
    key = (e.get("scene_id"), e.get("variant"))
    if e["event"] == "item_complete":
        done[key] = e
    elif e["event"] == "error" and "variant" in e:
        failed[key] = e
with open("cards.jsonl", "w") as out:
    out.write(json.dumps({"job_id": summary["jobId"], "mode": summary["mode"], "model": summary["model"]}) + "\n")
    for row in csv.DictReader(open("batch.csv")):
        for v in range(1, int(row.get("variants") or 1) + 1):
            card = {"scene_id": row["scene_id"], "variant": v, "prompt": row["prompt"]}
            if (row["scene_id"], v) in done:
                e = done[(row["scene_id"], v)]
                card.update(status="ok", image=e["uri"], cost_usd=e["cost_usd"])
            elif (row["scene_id"], v) in failed:
                e = failed[(row["scene_id"], v)]
                card.update(status="failed", error_code=e["error_code"], error=e["message"])
            else:
                card.update(status="not_run")
            out.write(json.dumps(card) + "\n")
PY
  ASSETGEN_REPORT_FIXTURE_CARDS="$T/cards.jsonl" ASSETGEN_REPORT_FIXTURE_OUT="$T/report.html" \
    timeout 120 "$tests_bin" "[report-fixture]" >fixture.txt 2>&1 || { cat fixture.txt >&2; fail "the report fixture failed"; }
  made_by="the [report-fixture] helper"
fi
[ -s report.html ] || fail "no report.html"

# The page itself: 199 cards; thumbnails point at images that exist, relative to the page; no
# script and nothing fetched from elsewhere.
python3 - <<'PY' || fail "report.html"
import os, re
html = open("report.html", encoding="utf-8").read()
cards = re.findall(r'<article class="card status-([a-z0-9_-]+)"', html)
assert len(cards) == 199, len(cards)
srcs = re.findall(r'<img src="([^"]*)"', html)
assert len(srcs) == cards.count("ok") + cards.count("skipped"), (len(srcs), cards.count("ok"))
assert srcs, "no thumbnails"
for s in srcs:
    assert not re.match(r"^[a-z]+:", s) and not s.startswith("/"), s
    assert os.path.isfile(os.path.join(".", s)), s
assert "<script" not in html and "<link" not in html and "@import" not in html
PY

chrome() {
  # --headless: no display needed; --no-sandbox: containers lack user namespaces; a fresh profile
  # keeps it from touching ~/.config. The timeout guards a hung browser on a loaded CI machine.
  timeout 180 "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --no-default-browser-check --disable-extensions --mute-audio --hide-scrollbars \
    --user-data-dir="$T/chrome-profile" "$@"
}

# The DOM after loading, as the browser parsed it: still 199 cards.
chrome --dump-dom "file://$T/report.html" >dom.html 2>chrome-dom.log || { tail -20 chrome-dom.log >&2; fail "chromium --dump-dom failed"; }
assert_eq "$(grep -o '<article class="card ' dom.html | wc -l | tr -d ' ')" 199 "cards in the DOM"

# A screenshot: a PNG of the window's size, with the thumbnails drawn (the synthetic images are
# colourful; the page's own palette is greys, so a page without thumbnails has almost no colour).
chrome --screenshot="$T/report.png" --window-size=1280,1600 --virtual-time-budget=10000 \
  "file://$T/report.html" >chrome-shot.log 2>&1 || { tail -20 chrome-shot.log >&2; fail "chromium --screenshot failed"; }
[ -s report.png ] || fail "no screenshot"
python3 - report.png <<'PY' || fail "the screenshot"
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(b):
    ln, typ = struct.unpack(">I4s", b[pos:pos + 8])
    data = b[pos + 8:pos + 8 + ln]
    if typ == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", data[:10])
    elif typ == b"IDAT":
        idat += data
    pos += 12 + ln
assert (w, h) == (1280, 1600), (w, h)
assert depth == 8 and ctype in (2, 6), (depth, ctype)
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colourful = 0
pos = 0
for y in range(h):
    f = raw[pos]; line = bytearray(raw[pos + 1:pos + 1 + stride]); pos += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        c = prev[x - bpp] if x >= bpp else 0
        up = prev[x]
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + up) & 255
        elif f == 3: line[x] = (line[x] + ((a + up) >> 1)) & 255
        elif f == 4:
            p = a + up - c; pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, w, 4):
            r, g, bl = line[x * bpp:x * bpp + 3]
            if max(r, g, bl) - min(r, g, bl) > 60:
                colourful += 1
share = colourful / ((h // 4) * (w // 4))
print("colourful share %.3f" % share)
assert share > 0.05, "the thumbnails did not render (%.3f of the page is colourful)" % share
PY
echo "ok: the contact sheet ($made_by) has 199 cards in Chromium's DOM and renders its thumbnails"
