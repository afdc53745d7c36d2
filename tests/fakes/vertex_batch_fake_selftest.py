#!/usr/bin/env python3
"""Self-test of gemini_fake.py's Vertex AI batch prediction (vertex_batch_fake.py) against a real
gcs_fake.py: the input read from Cloud Storage, create/get/list/cancel/delete, the state schedule by
polls, predictions written back under the output prefix with the request echoed and the key in its
labels, per-key errors, the display_name filter and pages, the lost create. Exit status 0 when all
checks pass."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

import gemini_fake_selftest as base
from gemini_fake_selftest import MODEL, TOKENS, check, request

HERE = os.path.dirname(os.path.abspath(__file__))
H = {"Authorization": "Bearer " + TOKENS[0]}
JOBS = "/v1/projects/proj-1/locations/us-central1/batchPredictionJobs"


class Gcs:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gcs-fake-")
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "gcs_fake.py"), "--port", "0",
                                      "--port-file", port_file], stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit("gcs_fake did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.base = f"http://127.0.0.1:{int(f.read())}"

    def put(self, bucket, name, data):
        q = urllib.parse.quote(name, safe="")
        status, _, _ = request(self, f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name={q}", data,
                               {"Content-Type": "application/jsonl"})
        return status

    def get(self, bucket, name):
        q = urllib.parse.quote(name, safe="")
        return request(self, f"/storage/v1/b/{bucket}/o/{q}?alt=media", method="GET")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def labels(key):
    """The labels assetgen writes for a key (vertex_batch_wire.cpp)."""
    enc = "".join(chr(b) if (97 <= b <= 122 or 48 <= b <= 57 or b == 45) else "_%02x" % b for b in key.encode())
    return {"assetgen-key-00": enc}


def line(key, prompt, ratio="16:9"):
    return {"request": {"contents": [{"role": "user", "parts": [{"text": prompt}]}],
                        "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": ratio}},
                        "labels": labels(key)}}


def create(fake, display, uri="gs://bkt/stage/in.jsonl", prefix="gs://bkt/stage/out/", model=MODEL):
    return request(fake, JOBS, {"displayName": display, "model": "publishers/google/models/" + model,
                                "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [uri]}},
                                "outputConfig": {"predictionsFormat": "jsonl",
                                                 "gcsDestination": {"outputUriPrefix": prefix}}}, H)


def run(fake, gcs):
    data = "".join(json.dumps(line(f"job/S{i}/1", f"a cube {i}")) + "\n" for i in range(1, 4))
    data += json.dumps(line("job/S4/1", "a cube [fault:429]")) + "\n"
    odd = line("job/S5/1", "a cube")
    odd["request"]["labels"] = {"assetgen-key-00": "Upper Case"}
    data += json.dumps(odd) + "\n"
    check(gcs.put("bkt", "stage/in.jsonl", data.encode()) == 200, "the input is in the GCS fake")
    request(fake, "/_fake/vertex-batch", {"gcs_base": gcs.base, "schedule": ["PENDING", "RUNNING", "SUCCEEDED"],
                                          "errors": {"job/S2/1": {"code": 400, "message": "bad row",
                                                                  "status": "INVALID_ARGUMENT"}}})
    status, _, job = create(fake, "chunk-0")
    check(status == 200 and job["state"] == "JOB_STATE_PENDING" and job["name"].startswith(
        "projects/proj-1/locations/us-central1/batchPredictionJobs/"), "create answers a PENDING job")
    name = job["name"]
    states = []
    for _ in range(3):
        _, _, got = request(fake, f"/v1/{name}", method="GET", headers=H)
        states.append(got["state"])
    check(states == ["JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED", "JOB_STATE_SUCCEEDED"],
          "one step of the schedule per get: " + str(states))
    check(got["completionStats"] == {"successfulCount": "2", "failedCount": "3", "incompleteCount": "0"},
          "completionStats count the failed rows: " + json.dumps(got.get("completionStats")))
    out = got["outputInfo"]["gcsOutputDirectory"]
    check(out.startswith("gs://bkt/stage/out/prediction-model-"), "the output directory is under the prefix")
    status, _, raw = gcs.get("bkt", out[len("gs://bkt/"):] + "/predictions.jsonl")
    rows = [json.loads(x) for x in (raw if isinstance(raw, bytes) else json.dumps(raw).encode()).splitlines()]
    check(status == 200 and len(rows) == 5, "predictions.jsonl holds one line per request")
    by_key = {r["request"]["labels"]["assetgen-key-00"]: r for r in rows}
    ok = by_key[labels("job/S1/1")["assetgen-key-00"]]
    check(ok["status"] == "" and "processed_time" in ok and
          ok["response"]["candidates"][0]["content"]["parts"][0]["inlineData"]["mimeType"] == "image/png" and
          ok["response"]["usageMetadata"]["candidatesTokenCount"] > 0, "a row: the request echoed and the image")
    bad = by_key[labels("job/S2/1")["assetgen-key-00"]]
    check(bad["status"].startswith("Bad Request: ") and "response" not in bad and
          json.loads(bad["status"][len("Bad Request: "):])["error"]["message"] == "bad row",
          "a per-key error is the row's status")
    limited = by_key[labels("job/S4/1")["assetgen-key-00"]]
    check(limited["status"].startswith("Too Many Requests: "), "a [fault:429] row fails with 429")
    odd = by_key["Upper Case"]
    check(odd["status"].startswith("Bad Request: ") and "Invalid labels" in odd["status"],
          "labels Google would refuse fail their row")

    # list: filter, pages, newest first
    create(fake, "chunk-1")
    create(fake, "chunk-1")
    _, _, page1 = request(fake, JOBS + "?pageSize=2", method="GET", headers=H)
    check(len(page1["batchPredictionJobs"]) == 2 and page1.get("nextPageToken") == "2", "list pages")
    _, _, page2 = request(fake, JOBS + "?pageSize=2&pageToken=2", method="GET", headers=H)
    check(len(page2["batchPredictionJobs"]) == 1 and "nextPageToken" not in page2, "the last page has no token")
    f = urllib.parse.quote('display_name="chunk-1"')
    _, _, filtered = request(fake, f"{JOBS}?filter={f}", method="GET", headers=H)
    check([j["displayName"] for j in filtered["batchPredictionJobs"]] == ["chunk-1", "chunk-1"],
          "the display_name filter")
    status, _, _ = request(fake, f"{JOBS}?filter=state%3D1", method="GET", headers=H)
    check(status == 400, "an unsupported filter is refused")

    # cancel, delete
    c = filtered["batchPredictionJobs"][0]["name"]
    status, _, body = request(fake, f"/v1/{c}:cancel", {}, H)
    _, _, got = request(fake, f"/v1/{c}", method="GET", headers=H)
    check(status == 200 and body == {} and got["state"] == "JOB_STATE_CANCELLED" and
          got["error"]["code"] == 1 and "outputInfo" not in got, "cancel: CANCELLED with an error, no output")
    status, _, _ = request(fake, f"/v1/{c}", method="DELETE", headers=H)
    status2, _, _ = request(fake, f"/v1/{c}", method="GET", headers=H)
    check(status == 200 and status2 == 404, "a deleted job answers 404")

    # bad creates, auth, the lost create
    status, _, _ = create(fake, "x", uri="gs://bkt/stage/missing.jsonl")
    check(status == 400, "a missing input file is refused")
    status, _, _ = create(fake, "x", model="../bad")
    check(status == 400, "a model that is not a publisher model is refused")
    status, _, _ = request(fake, JOBS, method="GET")
    check(status == 401, "batch prediction needs a bearer token")
    request(fake, "/_fake/vertex-batch", {"create_fault": "lost-response", "schedule": ["PENDING", "FAILED"]})
    status, _, _ = create(fake, "lost")
    _, _, listed = request(fake, f"{JOBS}?filter=" + urllib.parse.quote('display_name="lost"'), method="GET",
                           headers=H)
    check(status == 503 and len(listed.get("batchPredictionJobs", [])) == 1,
          "create_fault lost-response creates the job and answers 503")
    _, _, failed = request(fake, f"/v1/{listed['batchPredictionJobs'][0]['name']}", method="GET", headers=H)
    check(failed["state"] == "JOB_STATE_FAILED" and failed["error"]["code"] == 13, "FAILED carries an error")
    _, _, jobs = request(fake, "/_fake/vertex-batches", method="GET")
    check(len(jobs) == 4 and jobs[0]["requests"] == 5 and [j["deleted"] for j in jobs] == [False, False, True, False],
          "GET /_fake/vertex-batches lists every job")


def main():
    gcs = Gcs()
    fake = base.Fake()
    try:
        run(fake, gcs)
    finally:
        fake.stop()
        gcs.stop()
    print(f"\n{len(base.FAILURES)} failure(s)")
    return 1 if base.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
