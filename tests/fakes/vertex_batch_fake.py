"""Vertex AI batch prediction (projects.locations.batchPredictionJobs) for gemini_fake.py.

Shapes follow https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage
(input line {"request": GenerateContentRequest}; output prediction-model-<timestamp>/predictions.jsonl,
each line {"status","processed_time","request","response"}, a failed row's error in "status") and
https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/batch-prediction-api (the create
body); see tests/fakes/README.md for each citation. The files live in the GCS fake: the job reads its
input from there and writes its predictions back there, through the GCS fake's own JSON API (set with
--gcs-base or POST /_fake/vertex-batch {"gcs_base"}), as Vertex's service agent does with Cloud
Storage. Input and output pass through temporary files a block at a time: a large job costs the fake
no memory.
"""
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from urllib.parse import parse_qs, quote, urlsplit

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED")
STATES = ("QUEUED", "PENDING", "RUNNING") + TERMINAL
DEFAULT_SCHEDULE = ["PENDING", "RUNNING", "SUCCEEDED"]
# Where a request can be left unanswered (the kill tests): the Nth list (the first one of a chunk
# comes right after its input was staged), create (the job is made, its answer never comes), get
# (before the job moves on).
HANG_POINTS = ("vertex-list", "vertex-create", "vertex-get")
HANG_MAX_SECONDS = 600
ENDING_WAIT_SECONDS = 15  # how long a get waits for a job's predictions to be written (advance)
JOBS_PATH = re.compile(r"^/(v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/batchPredictionJobs$")
JOB_PATH = re.compile(r"^/(v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/batchPredictionJobs/([0-9]+)(:cancel)?$")
MODEL = re.compile(r"^publishers/google/models/([A-Za-z0-9._-]+)$")
GS = re.compile(r"^gs://([a-z0-9._-]+)/(.*)$")
FILTER = re.compile(r'^\s*display_name\s*=\s*"([^"]*)"\s*$')
LABEL = re.compile(r"^assetgen-key-([0-9]{2})$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout"}


def now_iso():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


def key_of(line):
    """The key of an input line: a top-level "key", else the one assetgen writes into the request's
    labels ("assetgen-key-NN", bytes outside [a-z0-9-] escaped as _xx)."""
    if isinstance(line.get("key"), str):
        return line["key"]
    labels = (line.get("request") or {}).get("labels") or {}
    parts = sorted((m.group(1), v) for k, v in labels.items() for m in [LABEL.match(k)] if m)
    encoded = "".join(v for _, v in parts)
    out, i = bytearray(), 0
    while i < len(encoded):
        if encoded[i] == "_":
            out.append(int(encoded[i + 1:i + 3], 16))
            i += 3
        else:
            out += encoded[i].encode()
            i += 1
    return out.decode("utf-8", "replace")


class VertexBatchApi:
    """The routes; `fake` is the gemini_fake module (validation, PNGs, usage, error bodies)."""

    def __init__(self, fake, args):
        self.fake, self.args = fake, args
        self.lock = threading.Lock()
        self.dir = tempfile.mkdtemp(prefix="vertex-fake-jobs-")
        self.gcs_base = getattr(args, "gcs_base", "") or ""
        self.release = threading.Event()  # set: every hung request gives up (reset, "release")
        self.reset()

    def reset(self):
        self.jobs, self.order, self.log, self.counter = {}, [], [], 0
        self.config = {"schedule": list(DEFAULT_SCHEDULE), "errors": {}, "create_fault": None, "gcs_token": "",
                       "hang": None}
        # What took effect, whoever heard it (GET /_fake/vertex-counters).
        self.counters = {"creates": 0, "lists": 0, "gets": 0, "cancels": 0, "by_display_name": {}}
        self.hangs = []
        self.release.set()
        self.release = threading.Event()

    def hang(self, handler, point, detail=""):
        """Leaves the request unanswered when the hang knob names `point` and this is its Nth
        occurrence since the knob was set (once); True when it hung. Logs `gemini_fake: hang at
        <point> <detail>` to stderr first, and gives up after HANG_MAX_SECONDS, on release or reset."""
        with self.lock:
            knob = self.config.get("hang")
            if not knob or knob["at"] != point:
                return False
            knob["seen"] += 1
            if knob["seen"] < knob.get("n", 1):
                return False
            self.config["hang"] = None
            self.hangs.append({"at": point, "detail": detail, "ts_ms": round(time.time() * 1000, 3)})
            release = self.release
        sys.stderr.write(f"gemini_fake: hang at {point} {detail}\n")
        sys.stderr.flush()
        release.wait(HANG_MAX_SECONDS)
        handler.close_connection = True
        return True

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the GCS fake, over its JSON API ----
    def gcs(self, method, path, body=None, length=None):
        if not self.gcs_base:
            raise self.fake.ApiError(500, "INTERNAL", "the fake has no GCS fake to read from (--gcs-base)")
        u = urlsplit(self.gcs_base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        headers = {"Content-Length": str(length or 0)} if body is not None else {}
        if self.config.get("gcs_token"):
            headers["Authorization"] = "Bearer " + self.config["gcs_token"]
        conn.request(method, path, body=body, headers=headers)
        return conn, conn.getresponse()

    def gcs_read(self, uri, dest):
        """Copies gs://bucket/name into the file dest; False when it does not exist."""
        m = GS.match(uri)
        conn, r = self.gcs("GET", f"/storage/v1/b/{m.group(1)}/o/{quote(m.group(2), safe='')}?alt=media")
        try:
            if r.status != 200:
                r.read()
                return False
            with open(dest, "wb") as out:
                shutil.copyfileobj(r, out, 1 << 20)
            return True
        finally:
            conn.close()

    def gcs_write(self, uri, src):
        m = GS.match(uri)
        with open(src, "rb") as fh:
            conn, r = self.gcs("POST", f"/upload/storage/v1/b/{m.group(1)}/o?uploadType=media&name="
                                       f"{quote(m.group(2), safe='')}", fh, os.path.getsize(src))
            r.read()
            conn.close()
        if r.status != 200:
            raise self.fake.ApiError(500, "INTERNAL", f"the GCS fake refused the predictions: {r.status}")

    # ---- routing: each returns True when it answered ----
    def route(self, handler, method, raw):
        split = urlsplit(handler.path)
        jobs, job = JOBS_PATH.match(split.path), JOB_PATH.match(split.path)
        if not jobs and not job:
            return False
        entry = {"ts_ms": round(time.time() * 1000, 3), "method": method, "path": split.path, "status": 0}
        with self.lock:
            self.log.append(entry)
        try:
            handler.authenticate(True)
            if jobs and method == "POST":
                entry["op"] = "create"
                status, body = self.create(jobs, raw, entry)
                if self.hang(handler, "vertex-create", body["name"] + " " + body["displayName"]):
                    return True  # made; the answer never comes
            elif jobs and method == "GET":
                entry["op"] = "list"
                if self.hang(handler, "vertex-list", parse_qs(split.query).get("filter", [""])[0]):
                    return True
                status, body = self.list(jobs, parse_qs(split.query), entry)
            elif job:
                if method == "GET" and job.group(5) is None and self.hang(handler, "vertex-get", split.path):
                    return True  # before the job moves on
                status, body = self.job(job, method, entry)
            else:
                raise self.fake.ApiError(405, "INVALID_ARGUMENT", "Method not allowed.")
            handler.send(status, body)
        except self.fake.ApiError as e:
            status = e.code
            handler.send(e.code, e.body(), headers=e.headers)
        with self.lock:
            entry["status"] = status
        return True

    def control(self, handler, path, body):
        """POST /_fake/vertex-batch {"schedule","errors":{key:{code,status,message}},"create_fault",
        "gcs_base","gcs_token"}."""
        if path != "/_fake/vertex-batch":
            return False
        schedule = body.get("schedule", self.config["schedule"])
        if (not isinstance(schedule, list) or not schedule or any(s not in STATES for s in schedule)
                or schedule[-1] not in TERMINAL):
            handler.send(400, {"error": f"schedule must be a list of {list(STATES)} ending in one of "
                                        f"{list(TERMINAL)}"})
            return True
        hang = body.get("hang")
        if hang is not None and (not isinstance(hang, dict) or hang.get("at") not in HANG_POINTS or
                                 not isinstance(hang.get("n", 1), int) or hang.get("n", 1) < 1):
            handler.send(400, {"error": f"hang must be {{\"at\": one of {list(HANG_POINTS)}, \"n\": N >= 1}}"})
            return True
        with self.lock:
            for k in ("errors", "create_fault", "gcs_token"):
                if k in body:
                    self.config[k] = body[k]
            if "hang" in body:
                self.config["hang"] = dict(hang, seen=0) if hang else None
            if body.get("release"):
                self.release.set()
                self.release = threading.Event()
            self.config["schedule"] = schedule
            if body.get("gcs_base"):
                self.gcs_base = body["gcs_base"].rstrip("/")
            config = dict(self.config, gcs_base=self.gcs_base)
        handler.send(200, {"ok": True, "config": config})
        return True

    def snapshot(self, path):
        """GET /_fake/vertex-batches (every job: name, displayName, state, polls, requests, input,
        output) and /_fake/vertex-batch-log (one entry per request: method, path, op, status)."""
        if path == "/_fake/vertex-batches":
            return [{"name": j["name"], "displayName": j["display_name"], "state": j["state"], "polls": j["polls"],
                     "requests": j["requests"], "input": j["input"], "output": j.get("output_dir", ""),
                     "deleted": j["deleted"]} for j in (self.jobs[i] for i in self.order)]
        if path == "/_fake/vertex-batch-log":
            return self.log
        if path == "/_fake/vertex-counters":
            return dict(self.counters, by_display_name=dict(self.counters["by_display_name"]), hangs=list(self.hangs))
        return None

    # ---- the resource ----
    def create(self, m, raw, entry):
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise self.fake.bad_request("Invalid JSON payload received.")
        if not isinstance(body, dict):
            raise self.fake.bad_request("Invalid JSON payload received.")
        display = body.get("displayName")
        model = MODEL.match(str(body.get("model", "")))
        inp, out = body.get("inputConfig") or {}, body.get("outputConfig") or {}
        uris = (inp.get("gcsSource") or {}).get("uris")
        prefix = (out.get("gcsDestination") or {}).get("outputUriPrefix", "")
        if not isinstance(display, str) or not display:
            raise self.fake.bad_request("displayName is required.")
        if not model:
            raise self.fake.bad_request(f"Invalid model \"{body.get('model')}\": expected "
                                        f"publishers/google/models/MODEL_ID.")
        if inp.get("instancesFormat") != "jsonl" or not isinstance(uris, list) or len(uris) != 1 \
                or not GS.match(str(uris[0])):
            raise self.fake.bad_request("inputConfig: instancesFormat \"jsonl\" and one gcsSource.uris "
                                        "gs:// file are required.")
        if out.get("predictionsFormat") != "jsonl" or not GS.match(str(prefix)):
            raise self.fake.bad_request("outputConfig: predictionsFormat \"jsonl\" and a gcsDestination."
                                        "outputUriPrefix gs:// prefix are required.")
        with self.lock:
            self.counter += 1
            jid = str(1000 + self.counter)
        source = os.path.join(self.dir, "in-" + jid)
        if not self.gcs_read(uris[0], source):
            raise self.fake.ApiError(400, "FAILED_PRECONDITION", f"Input file {uris[0]} does not exist.")
        with open(source, "rb") as fh:
            requests = sum(1 for line in fh if line.strip())
        name = f"projects/{m.group(2)}/locations/{m.group(3)}/batchPredictionJobs/{jid}"
        job = {"id": jid, "name": name, "display_name": display, "model": model.group(1), "state": None,
               "schedule": list(self.config["schedule"]), "errors": dict(self.config["errors"]), "polls": 0,
               "input": uris[0], "prefix": prefix, "source": source, "requests": requests, "deleted": False,
               "created": now_iso(), "updated": now_iso()}
        job["state"], job["ending"] = job["schedule"][0], None
        if job["state"] in TERMINAL:
            job["ending"] = job["state"]
        with self.lock:
            self.jobs[jid] = job
            self.order.append(jid)
            self.counters["creates"] += 1
            by_name = self.counters["by_display_name"]
            by_name[display] = by_name.get(display, 0) + 1
            fault, self.config["create_fault"] = self.config["create_fault"], None
            entry["job"] = name
            resource = self.resource(job)
        if job["state"] in TERMINAL:
            self.finish(job)
        if fault == "lost-response":
            raise self.fake.ApiError(503, "UNAVAILABLE", "The service is currently unavailable.")
        return 200, resource

    def advance(self, job):
        """One get: the next state of the job's schedule. A terminal one is only set aside
        ("ending"), True: the caller starts finish in a thread, which takes it once the predictions
        are written, so no get sees a SUCCEEDED job without its output. Each get waits for that
        thread up to ENDING_WAIT_SECONDS, so a small job answers its terminal state at once, and a
        large one (10,000 padded images take minutes to write) answers as it was meanwhile, each get
        well within a client's timeout."""
        if job["state"] in TERMINAL or job.get("ending"):
            return False
        job["polls"] += 1
        state = job["schedule"][min(job["polls"], len(job["schedule"]) - 1)]
        job["updated"] = now_iso()
        if state in TERMINAL:
            job["ending"] = state
            return True
        job["state"] = state
        return False

    def finish(self, job):
        """A terminal state (set aside by advance, or the first of the schedule): SUCCEEDED writes
        the predictions into the GCS fake; then the job takes the state, unless a cancel came first."""
        if job.get("ending") == "SUCCEEDED":
            self.write_predictions(job)
        with self.lock:
            if job.get("ending") and job["state"] not in TERMINAL:
                job["state"], job["updated"] = job["ending"], now_iso()
            job["ending"] = None
            job["ended"] = now_iso()

    def write_predictions(self, job):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".%06dZ" % (int(time.time() * 1e6) % 1000000)
        prefix = job["prefix"] if job["prefix"].endswith("/") else job["prefix"] + "/"
        output_dir = prefix + "prediction-model-" + stamp
        path = os.path.join(self.dir, "out-" + job["id"])
        failed = 0
        with open(job["source"], "rb") as fh, open(path, "w") as out:
            for raw in fh:
                if not raw.strip():
                    continue
                line = self.predict(job, raw)
                failed += 1 if line["status"] else 0
                out.write(json.dumps(line) + "\n")
        self.gcs_write(output_dir + "/predictions.jsonl", path)
        os.unlink(path)
        job["failed"], job["output_dir"] = failed, output_dir

    def predict(self, job, raw):
        """One output line: the request echoed, and its response or its error in status."""
        done = {"status": "", "processed_time": now_iso()}
        try:
            item = json.loads(raw)
            req = item["request"]
        except (ValueError, KeyError, TypeError):
            return dict(done, status='Bad Request: {"error": {"code": 400, "message": "Invalid JSON line.", '
                                     '"status": "INVALID_ARGUMENT"}}', request=None)
        done["request"] = req
        error = job["errors"].get(key_of(item)) or self.check_labels(req)
        try:
            prompt, images, config = self.fake.validate(req, job["model"], True)
        except self.fake.ApiError as e:
            prompt, images, config = "", [], None
            error = error or {"code": e.code, "status": e.status, "message": e.message}
        marker = self.fake.MARKER.search(prompt)
        fault = marker.group(1) if marker else None
        if error is None and fault in ("400", "403", "429", "500", "503", "504"):
            body = self.fake.fault_error(fault, job["model"], True, None, None).body()["error"]
            error = {"code": body["code"], "message": body["message"], "status": body["status"]}
        if error is not None:
            code = int(error.get("code", 400))
            detail = {"error": {"code": code, "message": error.get("message", "Request contains an invalid argument."),
                                "status": error.get("status", "INVALID_ARGUMENT")}}
            return dict(done, status=f"{REASONS.get(code, 'Error')}: {json.dumps(detail)}")
        return dict(done, response=self.fake.image_answer(self.args, prompt, job["model"], config, len(images),
                                                          fault))

    @staticmethod
    def check_labels(req):
        """Labels as Google allows them: at most 64; keys [a-z][a-z0-9_-]{0,62}, values [a-z0-9_-]{0,63}
        (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/add-labels-to-api-calls)."""
        labels = req.get("labels") if isinstance(req, dict) else None
        if labels is None:
            return None
        if not isinstance(labels, dict) or len(labels) > 64 or not all(
                isinstance(v, str) and LABEL_KEY.match(k) and LABEL_VALUE.match(v) for k, v in labels.items()):
            return {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid labels: keys and values must be "
                    "lowercase letters, digits, underscores or dashes, at most 63 characters, 64 labels."}
        return None

    def stats(self, job):
        n, state = job["requests"], job["state"]
        if state == "SUCCEEDED":
            failed = job.get("failed", 0)
            return {"successfulCount": str(n - failed), "failedCount": str(failed), "incompleteCount": "0"}
        if state == "RUNNING":
            return {"successfulCount": str(n // 2), "failedCount": "0", "incompleteCount": str(n - n // 2)}
        if state in TERMINAL:
            return {"successfulCount": "0", "failedCount": "0", "incompleteCount": str(n)}
        return None

    def resource(self, job):
        r = {"name": job["name"], "displayName": job["display_name"],
             "model": "publishers/google/models/" + job["model"],
             "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [job["input"]]}},
             "outputConfig": {"predictionsFormat": "jsonl", "gcsDestination": {"outputUriPrefix": job["prefix"]}},
             "state": "JOB_STATE_" + job["state"], "createTime": job["created"], "updateTime": job["updated"]}
        stats = self.stats(job)
        if stats:
            r["completionStats"] = stats
        if job["state"] in ("RUNNING",) + TERMINAL:
            r["startTime"] = job["created"]
        if job["state"] in TERMINAL:
            r["endTime"] = job.get("ended", job["updated"])
        if job.get("output_dir"):
            r["outputInfo"] = {"gcsOutputDirectory": job["output_dir"]}
        if job["state"] in ("FAILED", "EXPIRED", "CANCELLED"):
            code, message = {"FAILED": (13, "Batch prediction job failed."),
                             "EXPIRED": (4, "The job expired: it did not finish within 72 hours."),
                             "CANCELLED": (1, "The job was cancelled.")}[job["state"]]
            r["error"] = {"code": code, "message": message}
        return r

    def find(self, jid):
        job = self.jobs.get(jid)
        if job is None or job["deleted"]:
            raise self.fake.ApiError(404, "NOT_FOUND", "The BatchPredictionJob does not exist.")
        return job

    def job(self, m, method, entry):
        jid, verb = m.group(4), m.group(5)
        with self.lock:
            job = self.find(jid)
            entry["job"] = job["name"]
            if method == "GET" and verb is None:
                entry["op"] = "get"
                self.counters["gets"] += 1
                if self.advance(job):
                    job["writer"] = threading.Thread(target=self.finish, args=(job,), daemon=True)
                    job["writer"].start()
                writer = job.get("writer")
            elif method == "POST" and verb == ":cancel":
                entry["op"] = "cancel"
                self.counters["cancels"] += 1
                writer = None
                if job["state"] not in TERMINAL:
                    job["state"], job["updated"], job["ended"] = "CANCELLED", now_iso(), now_iso()
            elif method == "DELETE" and verb is None:
                entry["op"] = "delete"
                job["deleted"] = True
                return 200, {"name": job["name"] + "/operations/delete", "done": True}
            else:
                raise self.fake.ApiError(405, "INVALID_ARGUMENT", "Method not allowed.")
            entry["state"] = job["state"]
        if writer is not None:
            writer.join(ENDING_WAIT_SECONDS)  # a small job's answer is already the terminal state
        with self.lock:
            return 200, ({} if verb == ":cancel" else self.resource(job))

    def list(self, m, query, entry):
        size = max(1, min(1000, int((query.get("pageSize") or ["100"])[0] or 100)))
        start = int((query.get("pageToken") or ["0"])[0] or 0)
        text = (query.get("filter") or [""])[0]
        wanted = None
        if text:
            f = FILTER.match(text)
            if not f:
                raise self.fake.bad_request(f"Unsupported filter: {text}")
            wanted = f.group(1)
        with self.lock:
            self.counters["lists"] += 1
            live = [self.jobs[i] for i in reversed(self.order) if not self.jobs[i]["deleted"] and
                    (wanted is None or self.jobs[i]["display_name"] == wanted)]
            page = [self.resource(j) for j in live[start:start + size]]
        body = {"batchPredictionJobs": page} if page else {}
        if start + size < len(live):
            body["nextPageToken"] = str(start + size)
        entry.update(page_start=start, page_size=size, filter=text)
        return 200, body
