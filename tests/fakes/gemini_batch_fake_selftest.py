#!/usr/bin/env python3
"""Self-test of gemini_fake.py's Batch API and Files API (gemini_batch_fake.py): a resumable
upload in chunks, files.get/download/delete, batches from a file and inline, the state schedule
by polls, per-key errors, list pages, cancel and delete. Exit status 0 when all checks pass."""

import base64
import http.client
import json
import struct
import sys
import threading
import time
import urllib.request

import gemini_fake_selftest as base
from gemini_fake_selftest import KEY, MODEL, check, request

H = {"x-goog-api-key": KEY}


def line(key, prompt, ratio="16:9"):
    return {"key": key, "request": {
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
        "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": ratio}}}}


def upload(fake, data, chunk):
    status, hdrs, _ = request(fake, "/upload/v1beta/files", {"file": {"display_name": "in.jsonl"}}, dict(
        H, **{"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
              "X-Goog-Upload-Header-Content-Length": str(len(data)),
              "X-Goog-Upload-Header-Content-Type": "application/jsonl"}))
    url = hdrs.get("X-Goog-Upload-URL") if status == 200 else None
    check(url is not None and hdrs.get("X-Goog-Upload-Chunk-Granularity") == str(chunk),
          "resumable start answers X-Goog-Upload-URL and the chunk granularity")
    path = url[len(fake.base):]
    offset, answer = 0, None
    while True:
        piece = data[offset:offset + chunk]
        last = offset + len(piece) >= len(data)
        status, hdrs, answer = request(fake, path, piece, {
            "X-Goog-Upload-Command": "upload, finalize" if last else "upload",
            "X-Goog-Upload-Offset": str(offset)})
        if status != 200:
            break
        offset += len(piece)
        if last:
            break
    check(status == 200 and hdrs.get("X-Goog-Upload-Status") == "final", "the last chunk finalizes the file")
    status, hdrs, _ = request(fake, path, b"", {"X-Goog-Upload-Command": "query"})
    check(hdrs.get("X-Goog-Upload-Size-Received") == str(len(data)), "query says the bytes received")
    bad, _, _ = request(fake, path, b"x", {"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "3"})
    check(bad == 400, "a chunk at the wrong offset is refused")
    return answer["file"]


def poll(fake, name):
    return request(fake, f"/v1beta/{name}", method="GET", headers=H)


def run(fake):
    request(fake, "/_fake/batch", {"schedule": ["PENDING", "PENDING", "RUNNING", "SUCCEEDED"],
                                   "errors": {"job/s2/1": {"code": 400, "message": "bad row",
                                                           "status": "INVALID_ARGUMENT"}}})
    lines = [line("job/s1/1", "a red cube", "1:1"), line("job/s2/1", "a blue cube"),
             line("job/s3/1", "a cube [fault:image-safety]")]
    data = "".join(json.dumps(x) + "\n" for x in lines).encode() * 1
    f = upload(fake, data, 64)
    check(f["name"].startswith("files/") and f["sizeBytes"] == str(len(data)) and f["state"] == "ACTIVE",
          "the file resource names the file and its size")
    status, _, got = request(fake, f"/v1beta/{f['name']}", method="GET", headers=H)
    check(status == 200 and got["name"] == f["name"], "files.get")
    status, _, raw = request(fake, f"/download/v1beta/{f['name']}:download?alt=media", method="GET", headers=H)
    check(status == 200 and raw == data, "download returns the uploaded bytes")

    status, _, op = request(fake, f"/v1beta/models/{MODEL}:batchGenerateContent",
                            {"batch": {"display_name": "job-chunk-0",
                                       "input_config": {"file_name": f["name"]}}}, H)
    check(status == 200 and op["name"].startswith("batches/") and
          op["metadata"]["state"] == "BATCH_STATE_PENDING" and op["metadata"]["batchStats"]["requestCount"] == "3",
          "batchGenerateContent with a file answers an Operation batches/{id}, PENDING, 3 requests")
    states = [poll(fake, op["name"])[2]["metadata"]["state"] for _ in range(3)]
    check(states == ["BATCH_STATE_PENDING", "BATCH_STATE_RUNNING", "BATCH_STATE_SUCCEEDED"],
          "each get moves the batch one step along the schedule")
    _, _, done = poll(fake, op["name"])
    stats = done["metadata"]["batchStats"]
    out = done["response"].get("responsesFile")
    check(done.get("done") is True and stats["successfulRequestCount"] == "2" and
          stats["failedRequestCount"] == "1" and out and done["metadata"]["output"]["responsesFile"] == out,
          "a succeeded batch names its responsesFile and counts successes and failures")
    status, _, _ = request(fake, f"/v1beta/{out}", method="GET", headers=H)
    check(status == 400, "files.get refuses a generated output id over 40 characters (python-genai#1759)")
    req = urllib.request.Request(fake.base + f"/download/v1beta/{out}:download?alt=media", headers=H)
    with urllib.request.urlopen(req) as r:
        results = [json.loads(x) for x in r.read().splitlines()]
    check([r["key"] for r in results] == ["job/s1/1", "job/s2/1", "job/s3/1"], "one result line per key, in order")
    image = results[0]["response"]["candidates"][0]["content"]["parts"][-1]["inlineData"]["data"]
    png = base64.b64decode(image)
    check(png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (1024, 1024),
          "the image honours imageConfig.aspectRatio inside the batch request")
    check(results[1].get("error", {}).get("code") == 400 and "response" not in results[1],
          "a per-key error is an error line")
    check(results[2]["response"]["candidates"][0]["finishReason"] == "IMAGE_SAFETY",
          "a prompt marker inside a batch gives that answer")
    req = urllib.request.Request(fake.base + f"/download/v1beta/{out}:download?alt=media",
                                 headers=dict(H, Range="bytes=10-"))
    with urllib.request.urlopen(req) as r:
        check(r.status == 206 and r.headers.get("Content-Range", "").startswith("bytes 10-"),
              "download honours Range: bytes=N-")

    # inline input, SDK dict form refused, list pages, cancel, delete
    request(fake, "/_fake/batch", {"schedule": ["PENDING", "SUCCEEDED"], "errors": {}})
    inline = {"requests": {"requests": [{"request": x["request"], "metadata": {"key": x["key"]}} for x in lines[:2]]}}
    status, _, op2 = request(fake, f"/v1beta/models/{MODEL}:batchGenerateContent",
                             {"batch": {"displayName": "inline-1", "inputConfig": inline}}, H)
    check(status == 200, "batchGenerateContent with inline requests")
    _, _, done2 = poll(fake, op2["name"])
    inl = done2.get("response", {}).get("inlinedResponses", {}).get("inlinedResponses", [])
    check(len(inl) == 2 and inl[0]["metadata"]["key"] == "job/s1/1" and "response" in inl[0],
          "inline input answers inlinedResponses with their metadata")
    sdk = {"requests": {"requests": [{"request": {"contents": lines[0]["request"]["contents"],
                                                  "config": {"image_config": {"aspect_ratio": "1:1"}}}}]}}
    status, _, err = request(fake, f"/v1beta/models/{MODEL}:batchGenerateContent",
                             {"batch": {"displayName": "sdk", "inputConfig": sdk}}, H)
    check(status == 400 and "config" in err["error"]["message"], "the SDK's `config` form is refused on the wire")
    tier = {"requests": {"requests": [{"request": dict(lines[0]["request"], service_tier="flex")}]}}
    status, _, _ = request(fake, f"/v1beta/models/{MODEL}:batchGenerateContent",
                           {"batch": {"displayName": "tier", "inputConfig": tier}}, H)
    check(status == 400, "service_tier inside a batch request is refused")
    for i in range(3):
        request(fake, f"/v1beta/models/{MODEL}:batchGenerateContent",
                {"batch": {"displayName": f"more-{i}", "inputConfig": inline}}, H)
    names, token = [], ""
    for _ in range(10):
        _, _, page = request(fake, f"/v1beta/batches?pageSize=2&pageToken={token}", method="GET", headers=H)
        names += [o["metadata"]["displayName"] for o in page["operations"]]
        token = page.get("nextPageToken")
        if not token:
            break
    check(sorted(names) == sorted(["job-chunk-0", "inline-1", "more-0", "more-1", "more-2"]),
          "batches.list pages through every batch with pageToken")
    request(fake, "/_fake/batch", {"schedule": ["PENDING", "RUNNING", "SUCCEEDED"]})
    _, _, op3 = request(fake, f"/v1beta/models/{MODEL}:batchGenerateContent",
                        {"batch": {"displayName": "to-cancel", "inputConfig": inline}}, H)
    status, _, _ = request(fake, f"/v1beta/{op3['name']}:cancel", {}, H)
    _, _, c = poll(fake, op3["name"])
    check(status == 200 and c["metadata"]["state"] == "BATCH_STATE_CANCELLED" and c["error"]["status"] ==
          "CANCELLED", "batches.cancel ends the batch CANCELLED")
    status, _, _ = request(fake, f"/v1beta/{op3['name']}", method="DELETE", headers=H)
    check(status == 200 and poll(fake, op3["name"])[0] == 404, "batches.delete; a deleted batch is 404")
    status, _, _ = request(fake, f"/v1beta/{f['name']}", method="DELETE", headers=H)
    check(status == 200 and request(fake, f"/v1beta/{f['name']}", method="GET", headers=H)[0] == 403,
          "files.delete")
    request(fake, "/_fake/batch", {"schedule": ["PENDING", "EXPIRED"], "state_prefix": "JOB_STATE"})
    _, _, op4 = request(fake, f"/v1beta/models/{MODEL}:batchGenerateContent",
                        {"batch": {"displayName": "expires", "inputConfig": inline}}, H)
    _, _, e = poll(fake, op4["name"])
    check(e["metadata"]["state"] == "JOB_STATE_EXPIRED" and e.get("done") and "response" not in e,
          "EXPIRED (JOB_STATE_ spelling when asked) has no results")
    request(fake, "/_fake/batch", {"schedule": ["PENDING", "SUCCEEDED"], "state_prefix": "BATCH_STATE",
                                   "create_fault": "lost-response"})
    status, _, _ = request(fake, f"/v1beta/models/{MODEL}:batchGenerateContent",
                           {"batch": {"displayName": "lost", "inputConfig": inline}}, H)
    _, _, listed = request(fake, "/v1beta/batches?pageSize=100", method="GET", headers=H)
    check(status == 503 and any(o["metadata"]["displayName"] == "lost" for o in listed["operations"]),
          "create_fault lost-response creates the batch and answers 503")
    status, _, _ = request(fake, "/v1beta/batches", method="GET")
    check(status == 403, "the Batch API needs the key")


def in_thread(fn):
    """Runs fn() in a thread; the returned dict gets "result" or "error" when it ends."""
    out = {}

    def body():
        try:
            out["result"] = fn()
        except Exception as e:  # noqa: BLE001 (a hung request ends in a closed connection)
            out["error"] = e
    t = threading.Thread(target=body, daemon=True)
    t.start()
    out["thread"] = t
    return out


def wait_hang(fake, count):
    """Polls /_fake/counters until `count` requests were left hanging (bounded: 10 s)."""
    for _ in range(200):
        c = request(fake, "/_fake/counters", method="GET")[2]
        if len(c["hangs"]) >= count:
            return c
        time.sleep(0.05)
    return request(fake, "/_fake/counters", method="GET")[2]


def release(fake, pending):
    request(fake, "/_fake/batch", {"release": True})
    pending["thread"].join(10)
    return not pending["thread"].is_alive() and "result" not in pending


def hangs(fake):
    """The kill knobs: each point leaves one request unanswered, after (or before) it took effect,
    logs it, and counts; the request ends without an answer on release."""
    request(fake, "/_fake/reset", {})
    request(fake, "/_fake/batch", {"schedule": ["PENDING", "RUNNING", "SUCCEEDED"]})
    status, _, _ = request(fake, "/_fake/batch", {"hang": {"at": "nowhere"}})
    check(status == 400, "a hang at an unknown point is refused")
    data = "".join(json.dumps(line(f"job/s{i}/1", f"cube {i}")) + "\n" for i in range(4)).encode()

    request(fake, "/_fake/batch", {"hang": {"at": "upload-start"}})
    pending = in_thread(lambda: upload(fake, data, 64))
    c = wait_hang(fake, 1)
    check([h["at"] for h in c["hangs"]] == ["upload-start"] and c["upload_starts"] == 0,
          "hang at upload-start: before any session is made")
    check(release(fake, pending), "hang at upload-start: released, the client hears no answer")

    request(fake, "/_fake/batch", {"hang": {"at": "upload-finalize"}})
    pending = in_thread(lambda: upload(fake, data, 64))
    c = wait_hang(fake, 2)
    files = request(fake, "/_fake/files", method="GET")[2]
    check(c["hangs"][-1]["at"] == "upload-finalize" and c["uploads"] == 1 and len(files) == 1,
          "hang at upload-finalize: the file exists, its answer never comes")
    check(release(fake, pending), "hang at upload-finalize: released without an answer")
    f = upload(fake, data, 64)
    check(request(fake, "/_fake/counters", method="GET")[2]["uploads"] == 2, "the counters count uploads")

    body = {"batch": {"display_name": "assetgen-j-c1", "input_config": {"file_name": f["name"]}}}
    request(fake, "/_fake/batch", {"hang": {"at": "create"}})
    pending = in_thread(lambda: request(fake, f"/v1beta/models/{MODEL}:batchGenerateContent", body, H,
                                        timeout=30))
    c = wait_hang(fake, 3)
    check(c["hangs"][-1]["at"] == "create" and c["by_display_name"] == {"assetgen-j-c1": 1} and
          c["creates"] == 1, "hang at create: the batch was made, the answer never comes")
    check(release(fake, pending), "hang at create: released without an answer")
    name = request(fake, "/_fake/batches", method="GET")[2][0]["name"]

    request(fake, "/_fake/batch", {"hang": {"at": "get", "n": 2}})
    first = poll(fake, name)[2]["metadata"]["state"]
    pending = in_thread(lambda: request(fake, f"/v1beta/{name}", method="GET", headers=H, timeout=30))
    c = wait_hang(fake, 4)
    check(first == "BATCH_STATE_RUNNING" and c["hangs"][-1]["at"] == "get" and c["gets"] == 2,
          "hang at the 2nd batches.get (the 1st answered)")
    check(release(fake, pending), "hang at get: released without an answer")
    done = poll(fake, name)[2]
    check(done["metadata"]["state"] == "BATCH_STATE_SUCCEEDED", "the hung get did not move the batch on")
    out = done["response"]["responsesFile"]
    size = int(request(fake, "/_fake/files", method="GET")[2][-1]["sizeBytes"])

    request(fake, "/_fake/batch", {"hang": {"at": "download"}})

    def download():
        conn = http.client.HTTPConnection(fake.base[len("http://"):], timeout=30)
        conn.request("GET", f"/download/v1beta/{out}:download?alt=media", headers=H)
        r = conn.getresponse()
        got = b""
        try:
            while True:
                piece = r.read1(1 << 16)
                if not piece:
                    break
                got += piece
        finally:
            got_n["n"] = len(got)
        return got
    got_n = {}
    pending = in_thread(download)
    c = wait_hang(fake, 5)
    check(c["hangs"][-1]["at"] == "download" and c["hangs"][-1]["detail"].endswith(f"{size // 2} of {size} bytes"),
          "hang at download: after half of the bytes")
    pending["thread"].join(0.2)
    request(fake, "/_fake/batch", {"release": True})
    pending["thread"].join(10)
    check(not pending["thread"].is_alive() and got_n.get("n") == size // 2 and
          len(pending.get("result", b"")) != size, "hang at download: the client got half, then a closed connection")
    request(fake, "/_fake/batch", {"schedule": ["PENDING", "SUCCEEDED"], "hold": True})
    _, _, op = request(fake, f"/v1beta/models/{MODEL}:batchGenerateContent",
                       dict(body, batch=dict(body["batch"], display_name="held")), H)
    states = {poll(fake, op["name"])[2]["metadata"]["state"] for _ in range(3)}
    request(fake, "/_fake/batch", {"hold": False})
    check(states == {"BATCH_STATE_PENDING"} and poll(fake, op["name"])[2]["metadata"]["state"] ==
          "BATCH_STATE_SUCCEEDED", "hold keeps every batch where it is until released")
    c = request(fake, "/_fake/counters", method="GET")[2]
    check(c["by_display_name"] == {"assetgen-j-c1": 1, "held": 1} and c["creates"] == 2 and c["downloads"] == 1,
          "counters: batches per display name, downloads")


def main():
    fake = base.Fake(["--upload-granularity", "64"])
    try:
        run(fake)
        hangs(fake)
    finally:
        fake.stop()
    print(f"\n{len(base.FAILURES)} failure(s)")
    return 1 if base.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
