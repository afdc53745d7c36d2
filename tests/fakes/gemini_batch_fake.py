"""The Gemini API's Batch API and Files API for gemini_fake.py (routes, store, schedule).

Shapes follow https://ai.google.dev/api/batch-api (models.batchGenerateContent, batches.get,
list, cancel, delete; GenerateContentBatch, BatchStats, InlinedResponse) and
https://ai.google.dev/api/files (media.upload with Google's resumable X-Goog-Upload protocol,
files.get, files.delete, the download endpoint); see tests/fakes/README.md for each citation.
Files live in a temporary folder, so a large result file costs the fake no memory: it is
written line by line when the batch succeeds and served from disk (with Range).
"""
import base64
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from urllib.parse import parse_qs, urlsplit

HANG_POINTS = ("upload-start", "upload-finalize", "create", "get", "download")
HANG_MAX_SECONDS = 600  # a hung request gives up after this (the test killed its client long before)
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED")
STATES = ("PENDING", "RUNNING") + TERMINAL
DEFAULT_SCHEDULE = ["PENDING", "RUNNING", "SUCCEEDED"]
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"
MAX_INLINE_BYTES = 20 * 1024 * 1024  # "total request size under 20MB" (batch-api guide)
MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024  # "Input file size limit: 2GB" (rate-limits page)
MAX_FILE_ID = 40  # files.get refuses longer ids (python-genai#1759, go-genai#436)

UPLOAD_START = re.compile(r"^/upload/(v1beta|v1)/files$")
FILE_PATH = re.compile(r"^/(v1beta|v1)/files/([^/:]+)$")
DOWNLOAD_PATH = re.compile(r"^/download/(v1beta|v1)/files/([^/:]+):download$")
CREATE_PATH = re.compile(r"^/(v1beta|v1)/models/([^/:]+):batchGenerateContent$")
BATCH_PATH = re.compile(r"^/(v1beta|v1)/batches/([^/:]+)(:cancel|:delete)?$")
LIST_PATH = re.compile(r"^/(v1beta|v1)/batches$")


def now_iso():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


def get2(obj, camel, snake):
    if not isinstance(obj, dict):
        return None
    return obj[camel] if camel in obj else obj.get(snake)


class BatchStore:
    """Files, upload sessions and batches; the caller holds `lock` around every method."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.dir = tempfile.mkdtemp(prefix="gemini-fake-files-")
        self.release = threading.Event()  # set: every hung request gives up (reset, "release")
        self.reset()

    def reset(self):
        self.files, self.uploads, self.batches, self.order = {}, {}, {}, []
        self.counter = 0
        self.log = []  # one entry per Batch/Files API request
        self.config = {"schedule": list(self.args.batch_schedule), "errors": {}, "state_prefix": "BATCH_STATE",
                       "output": "auto", "long_output_ids": True, "create_fault": None,
                       "hold": False, "hang": None}
        # Counters the kill tests read (GET /_fake/counters): what took effect, whoever heard it.
        self.counters = {"upload_starts": 0, "uploads": 0, "creates": 0, "gets": 0, "downloads": 0,
                         "cancels": 0, "by_display_name": {}}
        self.hangs = []  # one entry per request the fake left hanging
        self.release.set()
        self.release = threading.Event()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def next_id(self, length=12):
        self.counter += 1
        return hashlib.sha256(f"{self.counter}:{os.getpid()}".encode()).hexdigest()[:length]

    def state_name(self, state):
        return f"{self.config['state_prefix']}_{state}"

    # ---- files ----
    def file_resource(self, f):
        return {"name": f["name"], "displayName": f["display_name"], "mimeType": f["mime"],
                "sizeBytes": str(f["size"]), "createTime": f["created"], "updateTime": f["created"],
                "expirationTime": f["expires"], "sha256Hash": f["sha256"],
                "uri": f"{self.args.public_base}/v1beta/{f['name']}", "state": "ACTIVE", "source": f["source"]}

    def add_file(self, file_id, display_name, mime, path, source):
        h, size = hashlib.sha256(), 0
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
                size += len(block)
        t = time.time()
        f = {"name": "files/" + file_id, "display_name": display_name, "mime": mime, "size": size,
             "path": path, "created": now_iso(), "sha256": base64.b64encode(h.hexdigest().encode()).decode(),
             "expires": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t + 48 * 3600)), "source": source}
        self.files[file_id] = f
        return f


class BatchApi:
    """The routes; `fake` is the gemini_fake module (validation, PNGs, usage, error bodies)."""

    def __init__(self, fake, store):
        self.fake, self.store = fake, store

    # ---- routing: each returns True when it answered ----
    def route(self, handler, method, raw):
        path = urlsplit(handler.path).path
        query = parse_qs(urlsplit(handler.path).query)
        m = None
        for pattern, fn in ((UPLOAD_START, self.upload), (FILE_PATH, self.file), (DOWNLOAD_PATH, self.download),
                            (CREATE_PATH, self.create), (BATCH_PATH, self.batch), (LIST_PATH, self.list)):
            m = pattern.match(path)
            if m:
                break
        if not m:
            return False
        entry = {"ts_ms": round(time.time() * 1000, 3), "method": method, "path": path, "op": fn.__name__,
                 "status": 0}
        with self.store.lock:
            self.store.log.append(entry)
        try:
            if fn.__name__ != "upload" or "upload_id" not in query:  # a session URL carries no key
                handler.authenticate(False)
            status = fn(handler, method, m, query, raw, entry)
        except self.fake.ApiError as e:
            status = e.code
            handler.send(e.code, e.body(), headers=e.headers)
        with self.store.lock:
            entry["status"] = status
        return True

    def control(self, handler, path, body):
        """POST /_fake/batch: {"schedule":[...],"errors":{key:{code,status,message}},...}."""
        store = self.store
        if path == "/_fake/batch":
            schedule = body.get("schedule", store.config["schedule"])
            hang = body.get("hang")
            if hang is not None and (not isinstance(hang, dict) or hang.get("at") not in HANG_POINTS or
                                     not isinstance(hang.get("n", 1), int) or hang.get("n", 1) < 1):
                handler.send(400, {"error": f"hang must be {{\"at\": one of {list(HANG_POINTS)}, \"n\": N >= 1}}"})
                return True
            if (not isinstance(schedule, list) or not schedule or
                    any(s not in STATES for s in schedule) or schedule[-1] not in TERMINAL):
                handler.send(400, {"error": f"schedule must be a list of {list(STATES)} ending in one of "
                                            f"{list(TERMINAL)}"})
                return True
            with store.lock:
                for k in ("errors", "output", "long_output_ids", "create_fault", "cut_download_at", "hold"):
                    if k in body:
                        store.config[k] = body[k]
                if "hang" in body:
                    store.config["hang"] = dict(body["hang"], seen=0) if body["hang"] else None
                if body.get("release"):
                    store.release.set()
                    store.release = threading.Event()
                if body.get("state_prefix") in ("BATCH_STATE", "JOB_STATE"):
                    store.config["state_prefix"] = body["state_prefix"]
                store.config["schedule"] = schedule
                config = dict(store.config)
            handler.send(200, {"ok": True, "config": config})
            return True
        return False

    def snapshot(self, path):
        """GET /_fake/batches (every batch, state and counts), /_fake/batch-log, /_fake/files."""
        store = self.store
        if path == "/_fake/batches":
            return [{"name": b["name"], "displayName": b["display_name"], "state": b["state"], "polls": b["polls"],
                     "requests": len(b["keys"]), "input": b["input"], "deleted": b["deleted"],
                     "image_sha256": b.get("image_sha256", {})}
                    for b in (store.batches[i] for i in store.order)]
        if path == "/_fake/batch-log":
            return store.log
        if path == "/_fake/files":
            return [dict(store.file_resource(f), deleted=False) for f in store.files.values()]
        if path == "/_fake/counters":
            return dict(store.counters, by_display_name=dict(store.counters["by_display_name"]),
                        hangs=list(store.hangs))
        return None

    def hang(self, handler, point, detail=""):
        """Leaves the request unanswered (the connection open) when the hang knob names `point` and
        this is its Nth occurrence since the knob was set; True when it hung. It logs
        `gemini_fake: hang at <point> <detail>` to stderr first (tests wait for that line, then
        kill their client), and gives up after HANG_MAX_SECONDS, on `release` or on reset."""
        store = self.store
        with store.lock:
            knob = store.config.get("hang")
            if not knob or knob["at"] != point:
                return False
            knob["seen"] += 1
            if knob["seen"] < knob.get("n", 1):
                return False
            store.config["hang"] = None  # once
            store.hangs.append({"at": point, "detail": detail, "ts_ms": round(time.time() * 1000, 3)})
            release = store.release
        sys.stderr.write(f"gemini_fake: hang at {point} {detail}\n")
        sys.stderr.flush()
        release.wait(HANG_MAX_SECONDS)
        handler.close_connection = True
        return True

    # ---- Files API ----
    def upload(self, handler, method, m, query, raw, entry):
        store, h = self.store, handler.headers
        if method != "POST":
            raise self.fake.ApiError(405, "INVALID_ARGUMENT", "Method not allowed.")
        upload_id = (query.get("upload_id") or [None])[0]
        command = [c.strip() for c in (h.get("X-Goog-Upload-Command") or "").split(",") if c.strip()]
        if upload_id is None:  # start
            if (h.get("X-Goog-Upload-Protocol") or "").lower() != "resumable" or command != ["start"]:
                raise self.fake.bad_request("the fake takes resumable uploads only: X-Goog-Upload-Protocol: "
                                            "resumable and X-Goog-Upload-Command: start")
            try:
                total = int(h.get("X-Goog-Upload-Header-Content-Length"))
            except (TypeError, ValueError):
                raise self.fake.bad_request("X-Goog-Upload-Header-Content-Length is required")
            if total > MAX_FILE_BYTES:
                raise self.fake.bad_request(f"File size {total} exceeds the maximum of {MAX_FILE_BYTES} bytes.")
            meta = json.loads(raw or b"{}").get("file", {}) if raw else {}
            if self.hang(handler, "upload-start", get2(meta, "displayName", "display_name") or ""):
                return 0
            with store.lock:
                store.counters["upload_starts"] += 1
                uid = store.next_id(24)
                path = os.path.join(store.dir, "upload-" + uid)
                open(path, "wb").close()
                store.uploads[uid] = {"total": total, "received": 0, "path": path,
                                      "mime": h.get("X-Goog-Upload-Header-Content-Type") or "application/octet-stream",
                                      "display_name": get2(meta, "displayName", "display_name") or ""}
            entry["upload_id"] = uid
            url = f"{self.public(handler)}/upload/v1beta/files?upload_id={uid}&upload_protocol=resumable"
            handler.send(200, b"", "text/plain; charset=utf-8",
                         {"X-Goog-Upload-Status": "active", "X-Goog-Upload-URL": url,
                          "X-Goog-Upload-Control-URL": url,
                          "X-Goog-Upload-Chunk-Granularity": str(self.store.args.upload_granularity)})
            return 200
        with store.lock:
            session = store.uploads.get(upload_id)
        entry["upload_id"] = upload_id
        if session is None:
            raise self.fake.ApiError(404, "NOT_FOUND", "upload session not found")
        if command == ["query"]:
            handler.send(200, b"", "text/plain; charset=utf-8",
                         {"X-Goog-Upload-Status": "final" if session.get("file") else "active",
                          "X-Goog-Upload-Size-Received": str(session["received"])})
            return 200
        finalize = "finalize" in command
        if "upload" not in command and not finalize:
            raise self.fake.bad_request(f"unknown X-Goog-Upload-Command {command}")
        try:
            offset = int(h.get("X-Goog-Upload-Offset"))
        except (TypeError, ValueError):
            raise self.fake.bad_request("X-Goog-Upload-Offset is required")
        entry.update(offset=offset, bytes=len(raw), finalize=finalize)
        if offset != session["received"]:
            raise self.fake.bad_request(f"X-Goog-Upload-Offset {offset} is not the size received "
                                        f"{session['received']}")
        granularity = self.store.args.upload_granularity
        if not finalize and len(raw) % granularity != 0:
            raise self.fake.bad_request(f"a chunk that does not finalize must be a multiple of "
                                        f"{granularity} bytes (X-Goog-Upload-Chunk-Granularity)")
        with open(session["path"], "ab") as fh:
            fh.write(raw)
        session["received"] += len(raw)
        if not finalize:
            handler.send(200, b"", "text/plain; charset=utf-8", {"X-Goog-Upload-Status": "active"})
            return 200
        if session["received"] != session["total"]:
            raise self.fake.bad_request(f"the upload has {session['received']} bytes, "
                                        f"X-Goog-Upload-Header-Content-Length said {session['total']}")
        with store.lock:
            if not session.get("file"):
                store.counters["uploads"] += 1
            f = session.get("file") or store.add_file(store.next_id(12), session["display_name"], session["mime"],
                                                      session["path"], "UPLOADED")
            session["file"] = f
            body = {"file": store.file_resource(f)}
        entry["file"] = f["name"]
        if self.hang(handler, "upload-finalize", f["name"]):  # the file exists; its answer never comes
            return 0
        handler.send(200, body, headers={"X-Goog-Upload-Status": "final"})
        return 200

    def file(self, handler, method, m, query, raw, entry):
        store, file_id = self.store, m.group(2)
        if len(file_id) > MAX_FILE_ID:
            raise self.fake.bad_request(f"* GetFileRequest.name: File ID (name excluding 'files/') cannot be more "
                                        f"than {MAX_FILE_ID} characters.\n")
        with store.lock:
            f = store.files.get(file_id)
            if f is not None and method == "DELETE":
                del store.files[file_id]
                try:
                    os.unlink(f["path"])
                except OSError:
                    pass
            body = store.file_resource(f) if f is not None else None
        if f is None:
            raise self.fake.ApiError(403, "PERMISSION_DENIED", f"You do not have permission to access the File "
                                     f"{file_id} or it may not exist.")
        handler.send(200, {} if method == "DELETE" else body)
        return 200

    def download(self, handler, method, m, query, raw, entry):
        store, file_id = self.store, m.group(2)
        if (query.get("alt") or [""])[0] != "media":
            raise self.fake.bad_request("download needs alt=media")
        with store.lock:
            f = store.files.get(file_id)
        if f is None:
            raise self.fake.ApiError(404, "NOT_FOUND", f"File files/{file_id} not found.")
        size, start, status = f["size"], 0, 200
        rng = re.match(r"^bytes=(\d+)-$", handler.headers.get("Range") or "")
        headers = {}
        if rng:
            start = min(int(rng.group(1)), size)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{max(size - 1, start)}/{size}"
        cut = store.config.get("cut_download_at")  # a connection that breaks midway (once)
        with store.lock:
            store.counters["downloads"] += 1
            knob = store.config.get("hang")
        half = None
        if knob and knob["at"] == "download":
            half = start + (size - start) // 2  # hang once half of the bytes were sent
        entry.update(range_start=start, size=size)
        handler.send_response(status)
        handler.send_header("Content-Type", f["mime"])
        handler.send_header("Content-Length", str(size - start))
        for k, v in headers.items():
            handler.send_header(k, v)
        handler.end_headers()
        sent = 0
        with open(f["path"], "rb") as fh:
            fh.seek(start)
            for block in iter(lambda: fh.read(1 << 20), b""):
                if half is not None and start + sent + len(block) >= half:
                    first = half - start - sent
                    handler.wfile.write(block[:first])
                    handler.wfile.flush()
                    if self.hang(handler, "download", f"files/{file_id} {half} of {size} bytes"):
                        return 0
                    half, block, sent = None, block[first:], sent + first  # not hung: go on
                if cut is not None and start + sent + len(block) > cut >= start:
                    handler.wfile.write(block[: cut - start - sent])
                    handler.wfile.flush()
                    with store.lock:
                        store.config["cut_download_at"] = None
                    handler.close_connection = True
                    return status
                handler.wfile.write(block)
                sent += len(block)
        return status

    # ---- batches ----
    def public(self, handler):
        return self.store.args.public_base or f"http://{handler.headers.get('Host')}"

    def create(self, handler, method, m, query, raw, entry):
        store, model = self.store, m.group(2)
        args = handler.server.state.args
        if args.models and model not in args.models:
            raise self.fake.ApiError(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta.")
        try:
            body = json.loads(raw)
        except ValueError:
            raise self.fake.bad_request("Invalid JSON payload received. Unexpected token.")
        batch = get2(body, "batch", "batch") if isinstance(body, dict) else None
        if not isinstance(batch, dict):
            raise self.fake.bad_request("batch is required", "batch")
        display = get2(batch, "displayName", "display_name")
        if not display:
            raise self.fake.bad_request("* BatchGenerateContentRequest.batch.display_name: display_name is "
                                        "required.", "batch.display_name")
        config = get2(batch, "inputConfig", "input_config") or {}
        file_name = get2(config, "fileName", "file_name")
        inline = get2(config, "requests", "requests")
        keys, lines, digests = [], [], {}
        if file_name:
            file_id = file_name.split("/", 1)[1] if file_name.startswith("files/") else file_name
            with store.lock:
                f = store.files.get(file_id)
            if f is None:
                raise self.fake.bad_request(f"File {file_name} not found.")
            with open(f["path"], "rb") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        item = json.loads(line)
                    except ValueError:
                        raise self.fake.bad_request(f"Invalid JSON in line {n} of {file_name}.")
                    req = item.get("request") if isinstance(item, dict) else None
                    images = self.check_request(req, model, f"line {n}")
                    keys.append(str(item.get("key", n)))
                    if images:
                        digests[keys[-1]] = [hashlib.sha256(i).hexdigest() for i in images]
            source, input_desc = f["path"], file_name
        elif isinstance(inline, dict) and isinstance(inline.get("requests"), list):
            if len(raw) > MAX_INLINE_BYTES:
                raise self.fake.bad_request(f"Request payload size exceeds the limit: {MAX_INLINE_BYTES} bytes.")
            for n, item in enumerate(inline["requests"]):
                req = item.get("request") if isinstance(item, dict) else None
                images = self.check_request(req, model, f"requests[{n}]")
                meta = item.get("metadata") or {}
                keys.append(str(meta.get("key", n)))
                if images:
                    digests[keys[-1]] = [hashlib.sha256(i).hexdigest() for i in images]
                lines.append(req)
            source, input_desc = None, "inline"
        else:
            raise self.fake.bad_request("batch.input_config needs file_name or requests", "batch.input_config")
        with store.lock:
            fault = store.config.get("create_fault")
            bid = store.next_id(16)
            b = {"name": "batches/" + bid, "display_name": display, "model": model, "state": "PENDING",
                 "schedule": list(store.config["schedule"]), "polls": 0, "keys": keys, "inline": lines,
                 "source": source, "input": input_desc, "created": now_iso(), "updated": now_iso(),
                 "errors": dict(store.config["errors"]), "deleted": False, "output_file": None,
                 "output": store.config["output"], "image_sha256": digests}
            b["state"] = b["schedule"][0]
            store.batches[bid] = b
            store.order.append(bid)
            store.counters["creates"] += 1
            by_name = store.counters["by_display_name"]
            by_name[display] = by_name.get(display, 0) + 1
            if b["state"] in TERMINAL:
                self.finish(b)
            operation = self.operation(b)
            if fault == "lost-response":  # created, but the answer is lost (the client cannot know)
                store.config["create_fault"] = None
        entry["batch"] = b["name"]
        if self.hang(handler, "create", f"{b['name']} {display}"):  # made; the answer never comes
            return 0
        if fault == "lost-response":
            raise self.fake.ApiError(503, "UNAVAILABLE", "The service is currently unavailable.")
        handler.send(200, operation)
        return 200

    def check_request(self, req, model, where):
        if not isinstance(req, dict):
            raise self.fake.bad_request(f"{where}: request is required")
        # A Batch request is a GenerateContentRequest: the same fields as generateContent, and
        # the same checks; the SDKs' dict form (`config`, `image_config` at the top) is refused
        # on the wire (cookbook#1106, cookbook#1017/1018).
        if "config" in req:
            raise self.fake.bad_request(f'{where}: Invalid JSON payload received. Unknown name "config": Cannot '
                                        f"find field.")
        if "serviceTier" in req or "service_tier" in req:
            raise self.fake.bad_request(f"{where}: service_tier cannot be set on a batch request")
        try:
            return self.fake.validate(req, model, False)[1]  # the request's inline images
        except self.fake.ApiError as e:
            raise self.fake.ApiError(e.code, e.status, f"{where}: {e.message}", e.details)

    def advance(self, b):
        """One batches.get poll: the next state of the batch's schedule."""
        if b["state"] in TERMINAL or self.store.config.get("hold"):
            return
        b["polls"] += 1
        b["state"] = b["schedule"][min(b["polls"], len(b["schedule"]) - 1)]
        b["updated"] = now_iso()
        if b["state"] in TERMINAL:
            self.finish(b)

    def finish(self, b):
        b["ended"] = now_iso()
        if b["state"] != "SUCCEEDED":
            return
        if b["output"] == "inline" or (b["output"] == "auto" and b["source"] is None):
            b["inlined"] = [self.answer_line(b, k, r) for k, r in zip(b["keys"], b["inline"])]
            return
        store = self.store
        out_id = ("batch-" + store.next_id(40)) if store.config.get("long_output_ids") else store.next_id(12)
        path = os.path.join(store.dir, "out-" + out_id)
        with open(path, "w") as out:
            if b["source"] is None:
                for k, r in zip(b["keys"], b["inline"]):
                    out.write(json.dumps(self.answer_line(b, k, r)) + "\n")
            else:
                with open(b["source"], "rb") as fh:
                    for line in fh:
                        if line.strip():
                            item = json.loads(line)
                            out.write(json.dumps(self.answer_line(b, str(item.get("key")), item["request"])) + "\n")
        f = store.add_file(out_id, "", "application/jsonl", path, "GENERATED")
        b["output_file"] = f["name"]

    def answer_line(self, b, key, req):
        """One result: {"key", "response"} or {"key", "error"}; per-key errors and prompt markers."""
        error = b["errors"].get(key)
        prompt, images, config = self.fake.validate(req, b["model"], False)
        marker = self.fake.MARKER.search(prompt)
        fault = marker.group(1) if marker else None
        if error is None and fault in ("400", "403", "429", "500", "503", "504"):
            error = self.fake.fault_error(fault, b["model"], False, None, None).body()["error"]
            error = {"code": error["code"], "message": error["message"], "status": error["status"]}
        if error is not None:
            return {"key": key, "error": {"code": int(error.get("code", 400)),
                                          "message": error.get("message", "Request contains an invalid argument."),
                                          "status": error.get("status", "INVALID_ARGUMENT")}}
        return {"key": key, "response": self.fake.image_answer(self.store.args, prompt, b["model"], config,
                                                               len(images), fault)}

    def counts(self, b):
        n = len(b["keys"])
        if b["state"] != "SUCCEEDED":
            done = 0 if b["state"] in ("PENDING",) else n // 2 if b["state"] == "RUNNING" else 0
            failed = 0
        else:
            done, failed = n, sum(1 for k in b["keys"] if k in b["errors"])
        stats = {"requestCount": str(n)}
        if b["state"] == "SUCCEEDED":
            stats.update(successfulRequestCount=str(done - failed), failedRequestCount=str(failed))
        elif b["state"] in ("PENDING", "RUNNING"):
            stats.update(pendingRequestCount=str(n - done), successfulRequestCount=str(done))
        return stats

    def operation(self, b):
        meta = {"@type": BATCH_TYPE, "model": "models/" + b["model"], "name": b["name"],
                "displayName": b["display_name"], "createTime": b["created"], "updateTime": b["updated"],
                "batchStats": self.counts(b), "state": self.store.state_name(b["state"])}
        if b["input"] != "inline":
            meta["inputConfig"] = {"fileName": b["input"]}
        op = {"name": b["name"], "metadata": meta}
        if b["state"] in TERMINAL:
            op["done"] = True
            meta["endTime"] = b.get("ended", b["updated"])
            if b["state"] == "SUCCEEDED":
                output = ({"responsesFile": b["output_file"]} if b["output_file"] else
                          {"inlinedResponses": {"inlinedResponses": [
                              dict(({"response": r["response"]} if "response" in r else {"error": r["error"]}),
                                   metadata={"key": r["key"]}) for r in b.get("inlined", [])]}})
                meta["output"] = output
                op["response"] = dict({"@type": OUTPUT_TYPE}, **output)
            else:
                code, status, message = {
                    "FAILED": (13, "INTERNAL", "Batch failed."),
                    "EXPIRED": (4, "DEADLINE_EXCEEDED", "The batch expired: it was pending or running for "
                                                        "more than 48 hours."),
                    "CANCELLED": (1, "CANCELLED", "The batch was cancelled.")}[b["state"]]
                op["error"] = {"code": code, "message": message, "status": status}
        return op

    def find(self, bid):
        b = self.store.batches.get(bid)
        if b is None or b["deleted"]:
            raise self.fake.ApiError(404, "NOT_FOUND", "Requested entity was not found.")
        return b

    def batch(self, handler, method, m, query, raw, entry):
        store, bid, verb = self.store, m.group(2), m.group(3)
        entry["batch"] = "batches/" + bid
        if method == "GET" and verb is None:
            with store.lock:
                self.find(bid)
                store.counters["gets"] += 1
            if self.hang(handler, "get", "batches/" + bid):  # before the batch moves on
                return 0
        with store.lock:
            b = self.find(bid)
            if method == "GET" and verb is None:
                self.advance(b)
                entry["state"] = b["state"]
                body = self.operation(b)
            elif method == "POST" and verb == ":cancel":
                entry["op"] = "cancel"
                store.counters["cancels"] += 1
                if b["state"] not in TERMINAL:
                    b["state"] = "CANCELLED"
                    b["updated"] = now_iso()
                    self.finish(b)
                body = {}
            elif (method == "DELETE" and verb is None) or (method == "POST" and verb == ":delete"):
                entry["op"] = "delete"
                b["deleted"] = True
                body = {}
            else:
                raise self.fake.ApiError(405, "INVALID_ARGUMENT", "Method not allowed.")
        handler.send(200, body)
        return 200

    def list(self, handler, method, m, query, raw, entry):
        store = self.store
        size = max(1, min(1000, int((query.get("pageSize") or ["10"])[0] or 10)))
        start = int((query.get("pageToken") or ["0"])[0] or 0)
        with store.lock:
            live = [store.batches[i] for i in reversed(store.order) if not store.batches[i]["deleted"]]
            page = [self.operation(b) for b in live[start:start + size]]
        body = {"operations": page}
        if start + size < len(live):
            body["nextPageToken"] = str(start + size)
        entry.update(page_start=start, page_size=size)
        handler.send(200, body)
        return 200
