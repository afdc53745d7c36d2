#!/usr/bin/env bash
# SIGINT in the middle of a live run, then the same command again. 199 images at --concurrency 4
# against a fake that takes 200 ms per answer, so 4 requests are in flight at any moment.
# Proves, for the interrupted run: exit 130; the signal landed while requests were in flight
# (fake log), no request started after it, and every request the fake answered is in the
# manifest and the ledger (in-flight requests were finished and recorded; manifest and ledger
# flushed; nothing paid is lost). For the second run: exit 0, and the fake is asked exactly for
# the images that were missing; at the end every image exists exactly once (manifest, ledger,
# PNG files). About 12 s.
source "$(dirname "$0")/common.inc"
# The seed's 199 images at the default model (gemini-3.1-flash-image) estimate $13.34, over the
# default $10 day limit; the budget is not what this test is about (scripts/demo does the same).
export ASSETGEN_DAILY_BUDGET_USD=20

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 200
base=$(fake_url gemini)
ag seed --refs-every 0 >batch.csv 2>/dev/null   # 100 rows, 199 images
export GEMINI_API_KEY=e2e-key
cmd=("$ASSETGEN" run batch.csv --mode live --api-base "$base" --concurrency 4 --json --events events.jsonl)

"${cmd[@]}" >run1.out 2>run1.err &
pid=$!
cleanup_pids+=("$pid")
for _ in $(seq 1 300); do
  n=$(cat out/*/manifest.jsonl 2>/dev/null | wc -l || true)
  [ "${n:-0}" -ge 40 ] && break
  sleep 0.05
done
t_before=$(date +%s%3N)
kill -INT "$pid"
t_after=$(date +%s%3N)
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 130 ] || { cat run1.err >&2; fail "interrupted run exited $rc, expected 130"; }
tail -3 run1.err
job=$(ls out)
for _ in $(seq 1 100); do  # the fake finishes its bookkeeping right after the last answer
  fake_get "$base/_fake/stats" stats1.json
  python3 -c 'import json; exit(json.load(open("stats1.json"))["in_flight"])' && break
  sleep 0.05
done
fake_get "$base/_fake/log" log1.json
python3 - "$job" "$t_before" "$t_after" <<'PY' || fail "interrupted run"
import json, glob, sys
job, t_before, t_after = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
log, stats = json.load(open('log1.json')), json.load(open('stats1.json'))
man = [json.loads(l) for l in open('out/%s/manifest.jsonl' % job)]
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
ok = [l for l in led if l['status'] == 'ok']
# In flight for sure when the signal came: arrived before kill was called, answered after it returned.
inflight = [e for e in log if e['ts_ms'] < t_before and e['end_ms'] > t_after]
late = [e for e in log if e['ts_ms'] > t_after + 50]
print('interrupted: fake answered %d (200s: %s), %d in flight at SIGINT, manifest %d, ledger ok %d, ledger lines %d'
      % (len(log), stats['by_status'].get('200', 0), len(inflight), len(man), len(ok), len(led)))
assert 0 < len(man) < 199, len(man)
assert inflight, 'no request was in flight when SIGINT was sent'
assert not late, '%d request(s) started after SIGINT' % len(late)
assert all(e['status'] == 200 for e in log), [e['status'] for e in log]
assert stats['by_status'].get('200', 0) == len(log) == len(man), (stats['by_status'], len(log), len(man))
assert len({(m['scene_id'], m['variant']) for m in man}) == len(man), 'duplicate manifest lines'
assert len(ok) == len(man) == len({l['id'] for l in ok}), (len(ok), len(man))
assert {l['id'] for l in ok} == {m['ledger_id'] for m in man}, 'ledger and manifest disagree'
assert len(led) == len(ok), 'ledger lines other than ok: %s' % [l for l in led if l['status'] != 'ok'][:3]
s = json.load(open('run1.out'))
assert s['status'] == 'interrupted' and s['imagesGenerated'] == len(man), (s['status'], s['imagesGenerated'])
PY
done1=$(count_lines "out/$job/manifest.jsonl")

# The same command again: only the rest.
fake_post "$base/_fake/reset" '{}'
expect_exit 0 "${cmd[@]}"
fake_get "$base/_fake/stats" stats2.json
python3 - "$job" "$done1" <<'PY' || fail "resumed run"
import json, glob, os, sys
job, done1 = sys.argv[1], int(sys.argv[2])
stats = json.load(open('stats2.json'))
print('resumed: fake asked %d times for %d missing images' % (stats['requests'], 199 - done1))
assert stats['requests'] == 199 - done1, (stats['requests'], 199 - done1)
raw = open('out/%s/manifest.jsonl' % job).read()
assert raw.endswith('\n')
man = [json.loads(l) for l in raw.splitlines()]
keys = [(m['scene_id'], m['variant']) for m in man]
assert len(keys) == len(set(keys)) == 199, (len(keys), len(set(keys)))
files = [f for _, _, fs in os.walk('out/' + job) for f in fs if f.endswith('.png')]
assert len(files) == 199, len(files)
led = [json.loads(l) for p in glob.glob('ledger/*.jsonl') for l in open(p) if l.strip()]
ok = [l for l in led if l['status'] == 'ok']
assert len(ok) == len({l['id'] for l in ok}) == 199, (len(ok), len({l['id'] for l in ok}))
assert sum(l['images'] for l in led) == 199
s = json.load(open('out.txt'))
assert s['imagesGenerated'] == 199 - done1 and s['imagesSkipped'] == done1 and s['errors'] == 0, s
PY
assert_eq "$(check_pngs "out/$job")" 199 "decodable PNG files"
echo "ok: SIGINT after $done1 images: exit 130 with in-flight images recorded; the re-run made only the other $((199 - done1))"
