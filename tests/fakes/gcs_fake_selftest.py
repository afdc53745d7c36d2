#!/usr/bin/env python3
"""Self-test of gcs_fake.py: starts it on free loopback ports, exercises every operation, the
preconditions, the faults and the control API, and checks the answers. Exit status 0 when all
checks pass. Python 3 standard library only (http.client, so that a 308 is seen as it is)."""

import base64
import hashlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gcs_fake_store import b64_crc, crc32c  # noqa: E402

FAILURES = []
B = "selftest-bucket"
K = 256 * 1024


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


class Fake:
    def __init__(self, *flags):
        self.dir = tempfile.mkdtemp(prefix="gcs-fake-")
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "gcs_fake.py"), "--port", "0",
                                      "--port-file", port_file, *flags], stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit("gcs_fake did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())

    def call(self, method, path, body=None, headers=None, timeout=10):
        """(status, lower-cased headers, body bytes); (0, {}, error name) when the connection broke."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        try:
            conn.request(method, path, body=data, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        except (http.client.HTTPException, ConnectionError, TimeoutError) as e:
            return 0, {}, type(e).__name__
        finally:
            conn.close()

    def json(self, method, path, body=None, headers=None):
        status, h, raw = self.call(method, path, body, headers)
        try:
            return status, h, json.loads(raw) if raw else None
        except (ValueError, TypeError):
            return status, h, raw

    def faults(self, rules, seed=7):
        return self.json("POST", "/_fake/faults", {"rules": rules, "seed": seed})[0]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def obj_path(name, bucket=B, query=""):
    return f"/storage/v1/b/{bucket}/o/{quote(name, safe='')}" + (f"?{query}" if query else "")


def media(fake, name, data, query="", content_type="text/plain", bucket=B):
    return fake.json("POST", f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name={quote(name, safe='')}"
                             + (f"&{query}" if query else ""), data, {"Content-Type": content_type})


def test_objects(fake):
    s, _, o = media(fake, "dir/check.txt", b"123456789", "ifGenerationMatch=0")
    check(s == 200 and o["name"] == "dir/check.txt" and o["bucket"] == B, "media upload creates the object")
    check(isinstance(o["generation"], str) and int(o["generation"]) > 0 and o["metageneration"] == "1",
          "generation and metageneration are int64 strings")
    check(o["size"] == "9" and o["crc32c"] == "4waSgw==" and "componentCount" not in o, "size and CRC32C")
    check(o["md5Hash"] == base64.b64encode(hashlib.md5(b"123456789").digest()).decode(), "md5Hash")
    gen = int(o["generation"])
    s, _, e = media(fake, "dir/check.txt", b"again", "ifGenerationMatch=0")
    check(s == 412 and e["error"]["errors"][0]["reason"] == "conditionNotMet" and
          e["error"]["message"] == "At least one of the pre-conditions you specified did not hold.",
          "ifGenerationMatch=0 on an existing object: 412 conditionNotMet")
    s, _, o2 = media(fake, "dir/check.txt", b"second", f"ifGenerationMatch={gen}")
    check(s == 200 and int(o2["generation"]) > gen, "ifGenerationMatch=current replaces it with a newer generation")
    gen = int(o2["generation"])
    s, _, m = fake.json("GET", obj_path("dir/check.txt"))
    check(s == 200 and m["size"] == "6" and m["contentType"] == "text/plain", "metadata get")
    s, h, raw = fake.call("GET", obj_path("dir/check.txt", query="alt=media"))
    check(s == 200 and raw == b"second" and h["x-goog-generation"] == str(gen), "alt=media read with x-goog-generation")
    check(h["x-goog-hash"].startswith("crc32c=" + b64_crc(crc32c(b"second"))), "x-goog-hash carries crc32c")
    s, _, raw = fake.call("GET", f"/download/storage/v1/b/{B}/o/dir%2Fcheck.txt?alt=media")
    check(s == 200 and raw == b"second", "the download/ path reads too")
    s, h, raw = fake.call("GET", obj_path("dir/check.txt", query="alt=media"), headers={"Range": "bytes=1-3"})
    check(s == 206 and raw == b"eco" and h["content-range"] == "bytes 1-3/6", "Range reads answer 206")
    s, _, _ = fake.call("GET", obj_path("dir/check.txt", query=f"alt=media&ifGenerationNotMatch={gen}"))
    check(s == 304, "ifGenerationNotMatch on a read: 304")
    s, _, _ = fake.call("GET", obj_path("dir/check.txt", query="ifGenerationMatch=1"))
    check(s == 412, "ifGenerationMatch mismatch on a read: 412")
    s, _, e = fake.json("GET", obj_path("nope"))
    check(s == 404 and e["error"]["errors"][0]["reason"] == "notFound" and
          e["error"]["message"] == f"No such object: {B}/nope", "missing object: Google's 404")
    s, _, p = fake.json("PATCH", obj_path("dir/check.txt", query="ifMetagenerationMatch=1"),
                        {"metadata": {"k": "v"}}, {"Content-Type": "application/json"})
    check(s == 200 and p["metageneration"] == "2" and p["generation"] == str(gen), "patch bumps metageneration only")
    s, _, _ = media(fake, "dir/check.txt", b"x", "ifMetagenerationMatch=1")
    check(s == 412, "ifMetagenerationMatch mismatch: 412")


def test_multipart(fake):
    data = b"\x00\x01binary\r\n--not-the-boundary\r\n\xff"
    meta = {"name": "mp/one.bin", "contentType": "application/octet-stream", "crc32c": b64_crc(crc32c(data))}
    body = (b"--BOUNDARY\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" + json.dumps(meta).encode() +
            b"\r\n--BOUNDARY\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--BOUNDARY--\r\n")
    headers = {"Content-Type": "multipart/related; boundary=BOUNDARY"}
    s, _, o = fake.json("POST", f"/upload/storage/v1/b/{B}/o?uploadType=multipart", body, headers)
    check(s == 200 and o["name"] == "mp/one.bin" and o["size"] == str(len(data)), "multipart upload")
    _, _, raw = fake.call("GET", obj_path("mp/one.bin", query="alt=media"))
    check(raw == data, "multipart bytes kept exactly")
    bad = body.replace(meta["crc32c"].encode(), b"AAAAAA==")
    s, _, e = fake.json("POST", f"/upload/storage/v1/b/{B}/o?uploadType=multipart", bad, headers)
    check(s == 400 and "CRC32C" in e["error"]["message"], "a wrong crc32c in the metadata: 400")


def test_resumable(fake):
    data = bytes(range(256)) * (3 * K // 256) + b"tail"  # 3 quanta and 4 bytes
    s, h, _ = fake.call("POST", f"/upload/storage/v1/b/{B}/o?uploadType=resumable&name=big.bin&ifGenerationMatch=0",
                        json.dumps({"contentType": "application/x-test"}).encode(),
                        {"Content-Type": "application/json; charset=UTF-8", "X-Upload-Content-Length": str(len(data))})
    check(s == 200 and "upload_id=" in h.get("location", ""), "resumable start answers a session Location")
    session = h["location"].split(f"127.0.0.1:{fake.port}", 1)[1]
    s, h, _ = fake.call("PUT", session, data[:K], {"Content-Range": f"bytes 0-{K - 1}/*"})
    check(s == 308 and h.get("range") == f"bytes=0-{K - 1}", "a chunk answers 308 Resume Incomplete with Range")
    s, _, _ = fake.call("PUT", session, data[K:K + 100], {"Content-Range": f"bytes {K}-{K + 99}/*"})
    check(s == 400, "a non-final chunk under 256 KiB: 400")
    s, h, _ = fake.call("PUT", session, b"", {"Content-Range": f"bytes */{len(data)}"})
    check(s == 308 and h.get("range") == f"bytes=0-{K - 1}", "a status question answers what the session holds")
    s, h, _ = fake.call("PUT", session, data[K:K + K + 1000], {"Content-Range": f"bytes {K}-{2 * K + 999}/*"})
    check(s == 308 and h.get("range") == f"bytes=0-{2 * K - 1}", "the server keeps whole 256 KiB quanta only")
    s, _, o = fake.json("PUT", session, data[2 * K:], {"Content-Range": f"bytes {2 * K}-{len(data) - 1}/{len(data)}"})
    check(s == 200 and o["size"] == str(len(data)) and o["contentType"] == "application/x-test", "the final chunk finishes")
    s, _, again = fake.json("PUT", session, b"", {"Content-Range": f"bytes */{len(data)}"})
    check(s == 200 and again["generation"] == o["generation"], "asking a finished session returns the object")
    _, _, raw = fake.call("GET", obj_path("big.bin", query="alt=media"))
    check(raw == data, "resumable bytes kept exactly")
    s, _, _ = fake.call("POST", f"/upload/storage/v1/b/{B}/o?uploadType=resumable&name=big.bin&ifGenerationMatch=0")
    check(s == 412, "preconditions are checked when a session starts")
    s, _, _ = fake.call("PUT", f"/upload/storage/v1/b/{B}/o?uploadType=resumable&upload_id=nope", b"",
                        {"Content-Range": "bytes */10"})
    check(s == 404, "an unknown session: 404")


def test_list_delete(fake):
    for i in range(5):
        media(fake, f"list/{i}.txt", b"x")
    media(fake, "list/sub/deep.txt", b"y")
    names, token, pages = [], "", 0
    while True:
        q = f"prefix=list%2F&maxResults=2" + (f"&pageToken={quote(token, safe='')}" if token else "")
        s, _, page = fake.json("GET", f"/storage/v1/b/{B}/o?{q}")
        names += [i["name"] for i in page.get("items", [])]
        pages += 1
        token = page.get("nextPageToken")
        if not token or pages > 10:
            break
    check(names == [f"list/{i}.txt" for i in range(5)] + ["list/sub/deep.txt"] and pages == 3,
          "list pages through nextPageToken in name order")
    s, _, page = fake.json("GET", f"/storage/v1/b/{B}/o?prefix=list%2F&delimiter=%2F")
    check(len(page["items"]) == 5 and page["prefixes"] == ["list/sub/"], "delimiter folds prefixes")
    s, _, page = fake.json("GET", f"/storage/v1/b/{B}/o?prefix=none%2F")
    check(s == 200 and "items" not in page, "an empty listing has no items")
    _, _, m = fake.json("GET", obj_path("list/0.txt"))
    s, _, _ = fake.call("DELETE", obj_path("list/0.txt", query="ifGenerationMatch=1"))
    check(s == 412, "delete with a stale ifGenerationMatch: 412")
    s, _, _ = fake.call("DELETE", obj_path("list/0.txt", query=f"generation={m['generation']}"))
    check(s == 204, "delete: 204")
    s, _, _ = fake.call("DELETE", obj_path("list/0.txt"))
    check(s == 404, "delete again: 404")


def test_compose(fake):
    _, _, a = media(fake, "c/day.jsonl", b'{"line":1}\n')
    _, _, p = media(fake, "c/part-1.jsonl", b'{"line":2}\n')
    body = {"sourceObjects": [{"name": "c/day.jsonl", "objectPreconditions": {"ifGenerationMatch": a["generation"]}},
                              {"name": "c/part-1.jsonl"}], "destination": {"contentType": "application/x-ndjson"}}
    s, _, c = fake.json("POST", obj_path("c/day.jsonl") + f"/compose?ifGenerationMatch={a['generation']}", body)
    check(s == 200 and c["componentCount"] == 2 and "md5Hash" not in c and c["crc32c"] == "tQDepA==",
          "compose appends: componentCount 2, CRC32C only")
    check(c["contentType"] == "application/x-ndjson" and int(c["generation"]) > int(a["generation"]),
          "compose writes a new generation with the destination's type")
    s, _, _ = fake.json("POST", obj_path("c/day.jsonl") + f"/compose?ifGenerationMatch={a['generation']}", body)
    check(s == 412, "compose with a stale destination generation: 412")
    body["sourceObjects"][0]["objectPreconditions"]["ifGenerationMatch"] = "1"
    s, _, _ = fake.json("POST", obj_path("c/day.jsonl") + "/compose", body)
    check(s == 412, "a source's objectPreconditions mismatch: 412")
    again = {"sourceObjects": [{"name": "c/day.jsonl"}, {"name": "c/part-1.jsonl"}]}
    s, _, c2 = fake.json("POST", obj_path("c/day.jsonl") + f"/compose?ifGenerationMatch={c['generation']}", again)
    check(s == 200 and c2["componentCount"] == 3, "componentCount is the sum of the sources' counts")
    many = {"sourceObjects": [{"name": "c/part-1.jsonl"}] * 33}
    s, _, e = fake.json("POST", obj_path("c/x") + "/compose", many)
    check(s == 400 and e["error"]["message"] == "The number of source components provided (33) exceeds the maximum (32)",
          "33 sources: Google's 400")
    s, _, _ = fake.json("POST", obj_path("c/x") + "/compose", {"sourceObjects": [{"name": "c/missing"}]})
    check(s == 404, "a missing source: 404")
    s, _, r = fake.json("POST", obj_path("c/day.jsonl") + f"/rewriteTo/b/{B}/o/c%2Fcopy.jsonl", {})
    check(s == 200 and r["done"] and "componentCount" not in r["resource"], "rewrite copies and resets componentCount")
    s, _, d = fake.json("GET", f"/_fake/dump?bucket={B}&prefix=c%2Fday")
    check(d["objects"][0]["text"] == '{"line":1}\n{"line":2}\n{"line":2}\n', "dump shows the composed bytes")


def test_faults(fake):
    fake.json("POST", "/_fake/reset", {})
    check(fake.faults([{"fault": "503", "first_n": 2}]) == 200, "rules are accepted")
    statuses = [media(fake, "f/a.txt", b"x")[0] for _ in range(3)]
    check(statuses == [503, 503, 200], "first_n answers the first N requests with the fault")

    def sequence():
        fake.faults([{"fault": "429", "rate": 0.5, "retry_after": 2}], seed=11)
        return [fake.call("GET", obj_path("f/a.txt"))[0] for _ in range(12)]
    first, second = sequence(), sequence()
    check(first == second and 429 in first and 200 in first, "rates are repeatable for a seed")
    fake.faults([{"fault": "429", "first_n": 1, "retry_after": 2}])
    _, _, listed = fake.json("GET", "/_fake/faults")
    check(listed["rules"][0]["remaining"] == 1, "GET /_fake/faults shows the rules with what remains")
    s, h, _ = fake.call("GET", obj_path("f/a.txt"))
    check(s == 429 and h.get("retry-after") == "2", "429 can carry Retry-After")

    fake.faults([{"fault": "412", "rate": 1.0, "ops": ["compose"]}])
    s1 = media(fake, "f/b.txt", b"y")[0]
    s2 = fake.json("POST", obj_path("f/c") + "/compose", {"sourceObjects": [{"name": "f/b.txt"}]})[0]
    _, _, d = fake.json("GET", f"/_fake/dump?bucket={B}&prefix=f%2Fc")
    check(s1 == 200 and s2 == 412 and d["objects"] == [], "ops limit a rule; 412 rejects without applying")

    fake.faults([{"fault": "lost-response", "first_n": 1, "ops": ["upload"]}])
    s1 = media(fake, "f/lost.txt", b"z", "ifGenerationMatch=0")[0]
    s2 = media(fake, "f/lost.txt", b"z", "ifGenerationMatch=0")[0]
    check(s1 == 503 and s2 == 412, "lost-response applies the write, answers 503; the retry meets 412")

    fake.faults([{"fault": "truncate", "first_n": 1, "ops": ["read"]}])
    s, _, err = fake.call("GET", obj_path("f/a.txt", query="alt=media"))
    check(s == 0 and err == "IncompleteRead", "truncate cuts the body short")
    fake.faults([{"fault": "reset", "first_n": 1}])
    s, _, err = fake.call("GET", obj_path("f/a.txt"))
    check(s == 0, "reset closes the connection without an answer")
    fake.faults([{"fault": "slow", "ms": 300, "first_n": 1}])
    t0 = time.time()
    s = fake.call("GET", obj_path("f/a.txt"))[0]
    check(s == 200 and time.time() - t0 >= 0.3, "slow delays, then answers")

    fake.faults([{"fault": "partial", "first_n": 1, "ops": ["resumable-chunk"]}])
    _, h, _ = fake.call("POST", f"/upload/storage/v1/b/{B}/o?uploadType=resumable&name=f%2Fpart.bin")
    session = h["location"].split(f"127.0.0.1:{fake.port}", 1)[1]
    s, _, _ = fake.call("PUT", session, b"p" * (2 * K), {"Content-Range": f"bytes 0-{2 * K - 1}/*"})
    s2, h2, _ = fake.call("PUT", session, b"", {"Content-Range": "bytes */*"})
    check(s == 503 and s2 == 308 and h2.get("range") == f"bytes=0-{K - 1}", "partial keeps half a chunk, then 503")

    check(fake.faults([{"fault": "teapot", "rate": 1}]) == 400, "an unknown fault is refused")
    check(fake.faults([{"fault": "503"}]) == 400, "a rule without rate or first_n is refused")
    check(fake.faults([{"fault": "503", "rate": 1, "ops": ["nope"]}]) == 400, "an unknown op is refused")
    fake.faults([])

    _, _, stats = fake.json("GET", "/_fake/stats")
    check(stats["by_status"].get("503", 0) >= 3 and stats["by_op"]["upload"] >= 3 and stats["by_fault"]["503"] == 2,
          "stats count by status, op and fault")
    _, _, log = fake.json("GET", "/_fake/log")
    lost = [e for e in log if e["fault"] == "lost-response"]
    check(lost and lost[0]["op"] == "upload" and lost[0]["object"] == "f/lost.txt" and lost[0]["status"] == 503 and
          lost[0]["preconditions"] == {"ifGenerationMatch": "0"} and lost[0]["generation"],
          "the log has op, object, status, fault, preconditions and the applied generation")
    check(all({"ts_ms", "op", "bucket", "object", "status"} <= set(e) for e in log), "every log entry has ts and op")
    fake.json("POST", "/_fake/reset", {})
    _, _, stats = fake.json("GET", "/_fake/stats")
    check(stats["requests"] == 0 and stats["objects"] == 0, "reset clears log, stats and objects")
    s, _, _ = fake.call("GET", "/nothing/here")
    check(s == 404, "unknown paths: 404")


def test_strict(fake):
    s, _, e = fake.json("GET", obj_path("x", bucket="fixed-bucket"))
    check(s == 401 and e["error"]["errors"][0]["reason"] == "required", "--require-bearer: no token, 401")
    s, _, e = fake.json("GET", obj_path("x", bucket="fixed-bucket"), headers={"Authorization": "Bearer wrong"})
    check(s == 401 and e["error"]["message"] == "Invalid Credentials", "--require-bearer: wrong token, 401")
    auth = {"Authorization": "Bearer tok", "Content-Type": "text/plain"}
    s, _, _ = fake.json("POST", "/upload/storage/v1/b/fixed-bucket/o?uploadType=media&name=a", b"a", auth)
    check(s == 200, "--require-bearer: the right token works")
    s, _, e = fake.json("POST", "/upload/storage/v1/b/other-bucket/o?uploadType=media&name=a", b"a", auth)
    check(s == 404 and e["error"]["message"] == "The specified bucket does not exist.", "--bucket: unknown bucket 404")
    fake.json("POST", obj_path("b", bucket="fixed-bucket") + "/compose", {"sourceObjects": [{"name": "a"}] * 3}, auth)
    s, _, e = fake.json("POST", obj_path("c", bucket="fixed-bucket") + "/compose",
                        {"sourceObjects": [{"name": "b"}, {"name": "a"}]}, auth)
    check(s == 400 and "exceeds the maximum (3)" in e["error"]["message"], "--max-components caps composites")


def test_spill(fake):
    """--spill-over 1000: a larger media upload is kept on disk; reads, ranges and its MD5 as usual."""
    data = bytes(range(256)) * 20
    s, _, o = media(fake, "big", data)
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    check(s == 200 and o["size"] == str(len(data)) and o["md5Hash"] == md5 and "crc32c" not in o,
          "--spill-over: a large upload has its size and MD5, no CRC32C")
    s, h, got = fake.call("GET", obj_path("big", query="alt=media"))
    check(s == 200 and got == data and h.get("x-goog-hash") == "md5=" + md5, "--spill-over: a whole read")
    s, h, got = fake.call("GET", obj_path("big", query="alt=media"), headers={"Range": "bytes=1000-2999"})
    check(s == 206 and got == data[1000:3000] and h["content-range"] == f"bytes 1000-2999/{len(data)}",
          "--spill-over: a ranged read")
    s, _, o = media(fake, "small", b"x" * 1000)
    check(s == 200 and o["crc32c"] == b64_crc(crc32c(b"x" * 1000)), "--spill-over: a small upload stays in memory")


def test_hang_before(fake):
    """Fault hang with "before": the upload is neither applied nor answered until release."""
    fake.faults([{"fault": "hang", "first_n": 1, "ops": ["upload"], "before": True}])
    s, _, _ = fake.call("POST", "/upload/storage/v1/b/%s/o?uploadType=media&name=hung" % B, b"abc",
                        {"Content-Type": "text/plain"}, timeout=1)
    hangs = fake.json("GET", "/_fake/hangs")[2]
    check(s == 0 and hangs[-1]["before"] and hangs[-1]["detail"] == "upload hung", "hang before: no answer")
    check(fake.call("GET", obj_path("hung"))[0] == 404, "hang before: nothing stored")
    fake.json("POST", "/_fake/release", {})


def main():
    fake = Fake()
    strict = Fake("--bucket", "fixed-bucket", "--require-bearer", "tok", "--max-components", "3")
    spill = Fake("--spill-over", "1000")
    try:
        for test in (test_objects, test_multipart, test_resumable, test_list_delete, test_compose, test_faults,
                     test_hang_before):
            test(fake)
        test_strict(strict)
        test_spill(spill)
    finally:
        fake.stop()
        strict.stop()
        spill.stop()
    print(f"{len(FAILURES)} failure(s)" if FAILURES else "all checks passed")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
