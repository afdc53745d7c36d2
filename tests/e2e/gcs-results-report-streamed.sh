#!/usr/bin/env bash
# A gs:// --results and --report are uploaded from their temp files a chunk at a time, never read
# back whole (issue 14): a partial dry run of ROWS seeded rows (default 200000: a report of about
# 240 MB) writing both to the GCS fake keeps its peak RSS (/usr/bin/time -f %M) under 100 MB,
# where reading the report back whole took more than twice that. The results object has a line
# per row plus the header; the report object has a card per planned image, counted in its header,
# and ends with </html>; both went up through resumable sessions in more than one chunk.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
if sanitized; then echo "skip: peak RSS means nothing under AddressSanitizer" >&2; exit 77; fi
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (scripts/bootstrap --test installs it)"
rows=${ROWS:-200000}
limit_kb=100000
start_gcs

ag seed --rows "$rows" -o big.csv 2>/dev/null
set +e
/usr/bin/time -f '%M' -o run.rss "$ASSETGEN" run big.csv --daily-budget-usd 0.5 \
  --budget-policy partial --quiet --json --results gs://bkt/r/r.csv --report gs://bkt/r/r.html \
  >out.json 2>err.txt
got=$?
set -e
[ "$got" = 3 ] || { cat err.txt >&2; fail "exit of the partial run: expected 3, got $got"; }
rss=$(tail -1 run.rss)
echo "partial, $rows rows, gs:// results and report: peak RSS $rss KB" >&2
[ "$rss" -lt "$limit_kb" ] || fail "peak RSS $rss KB is over $limit_kb KB"

# Checked in the fake's process, line by line (the objects are large).
gcs_py "
import json
s = json.load(open('out.json'))
rows = int(args[-1])
assert s['rows'] == rows and s['status'] == 'budget_exceeded', (s['rows'], s['status'])
csv = get('bkt', 'r/r.csv')
assert csv.count(b'\n') == rows + 1, ('results lines', csv.count(b'\n'), rows + 1)
assert csv.endswith(b'\n')
page = get('bkt', 'r/r.html')
cards = page.count(b'\n<article class=\"card ')
header = int(page.split(b'<body data-cards=\"', 1)[1].split(b'\"', 1)[0])
assert cards == s['imagesPlanned'] == header, ('cards', cards, s['imagesPlanned'], header)
assert page.endswith(b'</html>\n'), 'the page is not whole'
# Both went up through resumable sessions, in more than one chunk each (the client's 8 MiB
# threshold and chunk size): the path that never holds the bytes whole.
log = json.load(urllib.request.urlopen(base + '/_fake/log', timeout=30))
chunks = {n: sum(1 for e in log if e['object'] == n and e['kind'] == 'resumable-chunk')
          for n in ('r/r.csv', 'r/r.html')}
big = [n for n, size in (('r/r.csv', len(csv)), ('r/r.html', len(page))) if size > 16 << 20]
assert 'r/r.html' in big or rows < 100000, ('report size', len(page))
for n in big:
    assert chunks[n] > 1, (n, chunks)
print(f'results: {len(csv)} bytes, report: {cards} cards, {len(page)} bytes, chunks: {chunks}')
" "$rows" || fail "the uploaded results and report"
echo "ok: $rows rows with gs:// --results and --report under $limit_kb KB peak RSS"
