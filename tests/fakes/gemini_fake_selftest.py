#!/usr/bin/env python3
"""Self-test of gemini_fake.py: starts it on a free loopback port, sends valid and invalid requests,
every fault marker and the control API, and checks the answers. Exit status 0 when all checks pass.
Python 3 standard library only (urllib)."""

import base64
import hashlib
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
KEY, TOKENS = "test-key", ["tok-1", "tok-2"]
MODEL = "gemini-2.5-flash-image"
REF = b"\x89PNG\r\n\x1a\nnot really a png"
FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


class Fake:
    def __init__(self, extra=()):
        self.dir = tempfile.mkdtemp(prefix="gemini-fake-")
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "gemini_fake.py"), "--port", "0", "--port-file", port_file,
             "--api-key", KEY, "--bearer", TOKENS[0], "--bearer", TOKENS[1], "--hang-seconds", "3",
             "--png-bytes", "5000", *extra], stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit("gemini_fake did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.base = f"http://127.0.0.1:{int(f.read())}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def request(fake, path, body=None, headers=None, method="POST", timeout=10):
    """(status, headers, parsed JSON or raw bytes)."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(fake.base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    try:
        return status, hdrs, json.loads(raw)
    except ValueError:
        return status, hdrs, raw


def gemini(fake, prompt, key=KEY, extra=None, refs=(REF,), timeout=10, ratio="16:9"):
    parts = [{"text": prompt}] + [{"inlineData": {"mimeType": "image/png",
                                                  "data": base64.b64encode(r).decode()}} for r in refs]
    body = {"contents": [{"role": "user", "parts": parts}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": ratio}}}
    body.update(extra or {})
    headers = {"x-goog-api-key": key} if key else {}
    return request(fake, f"/v1beta/models/{MODEL}:generateContent", body, headers, timeout=timeout)


def vertex(fake, token, body=None):
    body = body or {"contents": [{"role": "user", "parts": [{"text": "a fox"}]}]}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    path = f"/v1/projects/p/locations/global/publishers/google/models/{MODEL}:generateContent"
    return request(fake, path, body, headers)


def png_size(data):
    """(width, height) of a PNG after checking its signature, chunk CRCs and pixel data."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "signature"
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        payload = data[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + payload) == struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", payload[:8])
        elif kind == b"IDAT":
            idat += payload
        pos += 12 + length
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width), "pixel data"
    return width, height


def final_image(answer):
    parts = answer["candidates"][0]["content"]["parts"]
    images = [p for p in parts if "inlineData" in p and not p.get("thought")]
    return base64.b64decode(images[-1]["inlineData"]["data"]) if images else None


def error_of(answer):
    return answer.get("error", {}) if isinstance(answer, dict) else {}


def main():
    fake = Fake()
    try:
        run(fake)
    finally:
        fake.stop()
    print(f"\n{len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


def run(fake):
    status, _, answer = gemini(fake, "a lighthouse at dusk")
    image = final_image(answer) if status == 200 else None
    check(status == 200 and image is not None, "a valid request gets an image")
    check(image is not None and png_size(image) == (1344, 768),
          "the image is a valid 16:9 PNG of the size Google documents for the model")
    _, _, wrong = gemini(fake, "a lighthouse at dusk [fault:wrong-size]")
    check(png_size(final_image(wrong)) == (672, 384), "[fault:wrong-size] answers half the size")
    _, _, pro = request(fake, f"/v1beta/models/gemini-3-pro-image-preview:generateContent?key={KEY}",
                        {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {
                            "responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "4:3", "imageSize": "2K"}}})
    check(png_size(final_image(pro)) == (2400, 1792), "3 Pro at 2K and 4:3 is 2400x1792")
    status, _, got = request(fake, f"/v1beta/models/{MODEL}?key={KEY}", None, method="GET")
    check(status == 200 and got.get("name") == "models/" + MODEL, "models.get knows the model")
    status, _, listed = request(fake, f"/v1beta/models?key={KEY}&pageSize=2", None, method="GET")
    check(status == 200 and len(listed.get("models", [])) == 2 and listed.get("nextPageToken") == "2",
          "models.list pages")
    check(image is not None and len(image) >= 5000, "--png-bytes pads the PNG")
    usage = answer.get("usageMetadata", {}) if status == 200 else {}
    check(usage.get("promptTokenCount") == len("a lighthouse at dusk") // 4 + 258
          and usage.get("candidatesTokenCount") == 1290 and answer.get("modelVersion") == MODEL,
          "usageMetadata and modelVersion are realistic")
    _, _, again = gemini(fake, "a lighthouse at dusk")
    check(final_image(again) == image, "the same prompt gives the same pixels")

    status, _, answer = request(fake, f"/v1beta/models/{MODEL}:generateContent?key={KEY}",
                                {"contents": [{"parts": [{"text": "x"}]}]})
    check(status == 200, "the key is also accepted as ?key=")
    status, _, answer = gemini(fake, "x", key="wrong")
    details = error_of(answer).get("details", [{}])
    check(status == 400 and error_of(answer).get("status") == "INVALID_ARGUMENT"
          and details[0].get("reason") == "API_KEY_INVALID", "a wrong key is 400 API_KEY_INVALID")
    status, _, answer = gemini(fake, "x", key=None)
    check(status == 403 and error_of(answer).get("status") == "PERMISSION_DENIED", "a missing key is 403")

    status, _, answer = gemini(fake, "x", extra={"foo": 1})
    check(status == 400 and error_of(answer).get("message") ==
          'Invalid JSON payload received. Unknown name "foo": Cannot find field.', "an unknown field is 400")
    status, _, answer = gemini(fake, "x", extra={"generationConfig": {"bar": True}})
    check(status == 400 and "Unknown name \"bar\" at 'generation_config'" in error_of(answer).get("message", ""),
          "an unknown generationConfig field is 400")
    status, _, answer = gemini(fake, "x", extra={"generationConfig": {"candidateCount": 2}})
    check(status == 400 and "Multiple candidates" in error_of(answer).get("message", ""), "candidateCount 2 is 400")
    status, _, _ = gemini(fake, "x", ratio="7:3")
    check(status == 400, "an unknown aspect ratio is 400")
    status, _, answer = request(fake, f"/v1beta/models/{MODEL}:generateContent", b"{not json",
                                {"x-goog-api-key": KEY})
    check(status == 400, "a body that is not JSON is 400")

    check(vertex(fake, TOKENS[1])[0] == 200, "Vertex accepts a listed bearer token")
    status, _, answer = vertex(fake, None)
    check(status == 401 and error_of(answer).get("status") == "UNAUTHENTICATED", "Vertex without a token is 401")
    check(vertex(fake, "nope")[0] == 401, "Vertex with an unknown token is 401")
    status, _, answer = vertex(fake, TOKENS[0], {"contents": [{"parts": [{"text": "a fox"}]}]})
    check(status == 400 and "valid role" in error_of(answer).get("message", ""), "Vertex requires a role")

    status, hdrs, answer = gemini(fake, "x [fault:429]")
    retry = [d for d in error_of(answer).get("details", []) if d.get("@type", "").endswith("RetryInfo")]
    check(status == 429 and retry and retry[0]["retryDelay"] == "1s" and hdrs.get("Retry-After") is None,
          "[fault:429] carries RetryInfo 1s and no Retry-After")
    status, _, answer = gemini(fake, "x [fault:429:0.5s]")
    retry = [d for d in error_of(answer).get("details", []) if d.get("@type", "").endswith("RetryInfo")]
    check(status == 429 and retry and retry[0]["retryDelay"] == "0.5s", "[fault:429:0.5s] sets retryDelay")
    # The quota faults (429s told apart): each is a 429 RESOURCE_EXHAUSTED with its own tell.
    for fault, tell in (("429-minute:0.3s", "GenerateRequestsPerMinutePerProjectPerModel"),
                        ("429-daily", "GenerateRequestsPerDayPerProjectPerModel"),
                        ("429-spend", "GenerateContentSpendPer10MinutesPerProject-Tier1"),
                        ("429-billing", "monthly spending cap")):
        status, _, answer = gemini(fake, f"x [fault:{fault}]")
        error = error_of(answer)
        check(status == 429 and error.get("status") == "RESOURCE_EXHAUSTED" and tell in json.dumps(error),
              f"[fault:{fault}] is a 429 naming {tell}")
    for code, name in (("503", "UNAVAILABLE"), ("500", "INTERNAL"), ("504", "DEADLINE_EXCEEDED")):
        status, _, answer = gemini(fake, f"x [fault:{code}]")
        check(status == int(code) and error_of(answer).get("status") == name, f"[fault:{code}] is {code} {name}")
    status, _, answer = gemini(fake, "x [fault:block-prompt]")
    check(status == 200 and answer.get("promptFeedback", {}).get("blockReason") == "SAFETY"
          and "candidates" not in answer, "[fault:block-prompt] blocks the prompt")
    for marker, reason in (("image-safety", "IMAGE_SAFETY"), ("no-image", "NO_IMAGE")):
        status, _, answer = gemini(fake, f"x [fault:{marker}]")
        check(status == 200 and answer["candidates"][0]["finishReason"] == reason, f"[fault:{marker}] is {reason}")
        check(answer["usageMetadata"].get("thoughtsTokenCount") == 240 and answer["usageMetadata"]["promptTokenCount"] > 0,
              f"[fault:{marker}] bills its prompt and thoughts (usageMetadata)")
    status, _, answer = gemini(fake, "x [fault:text-only]")
    check(status == 200 and final_image(answer) is None, "[fault:text-only] has no image part")
    status, _, answer = gemini(fake, "x [fault:malformed]")
    check(status == 200 and isinstance(answer, bytes), "[fault:malformed] is 200 with broken JSON")
    try:
        gemini(fake, "x [fault:truncate]")
        check(False, "[fault:truncate] cuts the body short")
    except http.client.IncompleteRead:
        check(True, "[fault:truncate] cuts the body short")
    started = time.time()
    try:
        gemini(fake, "x [fault:hang]", timeout=0.5)
        check(False, "[fault:hang] never answers within a client timeout")
    except (socket.timeout, TimeoutError, urllib.error.URLError):
        check(time.time() - started < 2.5, "[fault:hang] never answers within a client timeout")
    results = [gemini(fake, "retry me [fault:503*2]")[0] for _ in range(3)]
    check(results == [503, 503, 200], "[fault:503*2] fails twice, then succeeds")

    status, _, _ = request(fake, "/_fake/faults", {"rules": [{"fault": "503", "first_n": 2},
                                                             {"fault": "429", "rate": 0.0}]})
    results = [gemini(fake, "ruled")[0] for _ in range(3)]
    check(status == 200 and results == [503, 503, 200], "a first_n rule fails the next N requests")
    request(fake, "/_fake/faults", {"rules": [{"fault": "429", "rate": 1.0, "retry_delay": "2.5s",
                                               "retry_after": 3}]})
    status, hdrs, _ = gemini(fake, "ruled")
    check(status == 429 and hdrs.get("Retry-After") == "3", "a rule can add Retry-After")
    sequences = []
    for _ in range(2):
        request(fake, "/_fake/faults", {"rules": [{"fault": "503", "rate": 0.5}], "seed": 7})
        sequences.append([gemini(fake, "coin")[0] for _ in range(16)])
    check(sequences[0] == sequences[1] and 503 in sequences[0] and 200 in sequences[0],
          "rates are drawn from the seeded RNG")
    # The [fault:hang] request above may still be held open (--hang-seconds 3) on a slow machine:
    # wait for it to end, so the counts below see only the requests made for them.
    deadline = time.time() + 15
    while request(fake, "/_fake/stats", method="GET")[2].get("in_flight", 0) > 0 and time.time() < deadline:
        time.sleep(0.05)
    request(fake, "/_fake/reset", {})

    threads = [threading.Thread(target=gemini, args=(fake, f"slow {i} [latency-ms:1500]")) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _, _, stats = request(fake, "/_fake/stats", method="GET")
    check(stats.get("requests") == 6 and stats.get("max_in_flight", 0) >= 3 and stats.get("in_flight") == 0
          and stats.get("by_status") == {"200": 6}, "stats count requests and concurrency")
    if FAILURES and FAILURES[-1] == "stats count requests and concurrency":
        print("     stats:", stats)
    _, _, log = request(fake, "/_fake/log", method="GET")
    check(len(log) == 6 and all(e["images"] == 1 and e["image_sha256"] == [hashlib.sha256(REF).hexdigest()]
                                and e["end_ms"] - e["ts_ms"] >= 390 for e in log),
          "the log lists each request with its image hashes")


if __name__ == "__main__":
    sys.exit(main())
