#!/usr/bin/env bash
# A server that sends more bytes than its Content-Length leaves them on the connection; the next
# request on it reads them as its answer ("Received HTTP/0.9 when not allowed"). That was mapped to
# INVALID_INPUT — "the batch or a flag is wrong" — not retried: an innocent row failed for good
# with a code blaming the user. It is a malformed answer: BAD_RESPONSE, retried.
source "$(dirname "$0")/common.inc"
# A one-off server: the first generateContent answer carries 50 bytes past its Content-Length
# (sent a moment later, so the client has finished reading the answer); every answer is a real
# PNG billed like the fake's.
cat >excess.py <<'PY'
import base64, json, sys, threading, time, zlib, struct
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
def png(w=8, h=8):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\0" + b"\x80" * (w * 3) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
IMG = base64.b64encode(png()).decode()
answered = [0]
lock = threading.Lock()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send_json(self, body, extra=b""):
        b = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b); self.wfile.flush()
        if extra:
            time.sleep(0.2)
            self.wfile.write(extra); self.wfile.flush()
    def do_GET(self):
        name = self.path.split("?")[0].rsplit("/", 1)[-1]
        self.send_json({"name": "models/" + name, "supportedGenerationMethods": ["generateContent"]})
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            answered[0] += 1
            first = answered[0] == 1
        self.send_json({"candidates": [{"content": {"role": "model", "parts": [
                            {"inlineData": {"mimeType": "image/png", "data": IMG}}]},
                            "finishReason": "STOP"}],
                        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 1120,
                                          "totalTokenCount": 1130}},
                       b"x" * 50 if first else b"")
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
python3 excess.py excess.port 2>excess.log &
cleanup_pids+=("$!")
for _ in $(seq 1 200); do [ -s excess.port ] && break; sleep 0.05; done
[ -s excess.port ] || fail "the server did not start"
printf 'scene_id,prompt,variants\nA,first,1\nB,second,1\nC,third,1\n' >b.csv
GEMINI_API_KEY=e2e-key expect_exit 0 ag run b.csv --mode live --api-base "http://127.0.0.1:$(cat excess.port)" \
  --concurrency 1 --max-attempts 3 --results results.csv
python3 - <<'PY' || { cat err.txt >&2; fail "the row after the excess bytes"; }
import csv, glob, json
rows = {r["scene_id"]: r for r in csv.DictReader(open("results.csv"))}
assert all(r["status"] == "ok" for r in rows.values()), rows
led = [json.loads(l) for p in glob.glob("ledger/*.jsonl") for l in open(p) if l.strip()]
assert not [l for l in led if l["status"] == "INVALID_INPUT"], led
assert sorted(l["scene_id"] for l in led if l["status"] == "ok") == ["A", "B", "C"], led
PY
echo ok
