#!/usr/bin/env python3
"""A loopback fake of the Google Cloud Storage JSON API (objects only) with fault injection.

How this works: one ThreadingHTTPServer routes the JSON API paths (uploads: media, multipart,
resumable with 308s; get/alt=media; list with pageToken; delete; compose; rewrite; patch) onto an
in-memory Store (gcs_fake_store.py) that keeps generations and metagenerations and evaluates
preconditions the way the service does (412, or 304 for *NotMatch on reads). Every API request
first picks a fault from rules set through the control API (POST /_fake/faults); rates are drawn
from one seeded RNG under the lock, so a run is repeatable for a given arrival order. "lost-response"
applies the operation and then answers 503, which is how a retried write whose first answer was lost
is tested. GET /_fake/log, /_fake/stats and /_fake/dump let tests look inside. Auth: any bearer token
or none (emulator mode), or exactly --require-bearer. Answers go out in one write with Nagle off.
Behaviour and sources: tests/fakes/README.md. Python 3 standard library only.
"""

import argparse
import base64
import calendar
import hashlib
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import http.server
from urllib.parse import parse_qsl, quote, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gcs_fake_store import (QUANTUM, FileBytes, GcsError, Store, b64_crc, bad_request,  # noqa: E402
                            precondition_failed)

import fake_common  # noqa: E402 (beside this file)

OBJECT = re.compile(r"^/(storage|download/storage)/v1/b/([^/]+)/o/([^/]+)$")
OBJECTS = re.compile(r"^/storage/v1/b/([^/]+)/o$")
UPLOAD = re.compile(r"^/upload/storage/v1/b/([^/]+)/o$")
COMPOSE = re.compile(r"^/storage/v1/b/([^/]+)/o/([^/]+)/compose$")
REWRITE = re.compile(r"^/storage/v1/b/([^/]+)/o/([^/]+)/rewriteTo/b/([^/]+)/o/([^/]+)$")
BUCKET = re.compile(r"^/storage/v1/b/([^/]+)$")
ERROR_FAULTS = {"400", "401", "403", "404", "408", "412", "429", "500", "502", "503", "504"}
FAULTS = ERROR_FAULTS | {"slow", "truncate", "reset", "lost-response", "partial", "hang"}
HANG_MAX_SECONDS = 600  # a hung answer gives up after this (the test killed its client long before)
OPS = {"upload", "read", "stat", "list", "delete", "compose", "rewrite", "patch", "bucket"}
KINDS = {"media", "multipart", "resumable-start", "resumable-chunk", "resumable-status", "resumable-cancel"}
STATUS_TEXT = {400: ("invalid", "Invalid request."), 401: ("required", "Login Required"),
               403: ("forbidden", "Forbidden"), 404: ("notFound", "Not Found"),
               408: ("requestTimeout", "Request Timeout"),
               429: ("rateLimitExceeded", "The object exceeded the rate limit for object mutation operations "
                                          "(create, update, and delete). Please reduce your request rate. See "
                                          "https://cloud.google.com/storage/docs/gcs429."),
               500: ("backendError", "Backend Error"), 502: ("backendError", "Bad Gateway"),
               503: ("backendError", "Service Unavailable"), 504: ("backendError", "Gateway Timeout")}


def fault_error(code, retry_after=None):
    if code == 412:
        return precondition_failed()
    reason, message = STATUS_TEXT[code]
    return GcsError(code, reason, message, {"Retry-After": str(retry_after)} if retry_after is not None else None)


class State:
    def __init__(self, args):
        self.args, self.lock = args, threading.Lock()
        self.store = Store(args.bucket, args.max_components)
        self.release = threading.Event()  # set: every hung answer gives up (reset, /_fake/release)
        # --spill-over: where large media uploads go (below TMPDIR; a test points TMPDIR at its own
        # folder, removed with it). A file per upload, kept while the process lives.
        self.spill_dir = tempfile.mkdtemp(prefix="gcs-fake-spill-") if args.spill_over else None
        self.spills = 0
        self.reset(args.seed)

    def reset(self, seed, keep_objects=False):
        self.rng, self.rules, self.log = random.Random(seed), [], []
        self.requests, self.by_status, self.by_op, self.by_fault = 0, {}, {}, {}
        self.signed_gets, self.signed_expired = 0, 0
        self.hangs = []  # one entry per answer the fake left hanging (fault "hang")
        self.release.set()
        self.release = threading.Event()
        if not keep_objects:
            self.store.reset()

    def choose_fault(self, op, kind, name):
        """The first rule that fires for this request, or None. Rules are tried in order; a rule with
        first_n left fires (and counts down) only when no earlier rule fired, so first_n rules play in
        sequence; every matching rate rule draws, so the draws depend only on the arrival order."""
        chosen = None
        for rule in self.rules:
            ops = rule.get("ops")
            if ops and op not in ops and kind not in ops:
                continue
            if rule.get("object_prefix") is not None and not (name or "").startswith(rule["object_prefix"]):
                continue
            if rule.get("remaining", 0) > 0:
                if chosen is None:
                    rule["remaining"] -= 1
                    chosen = rule
                continue
            if "rate" in rule and self.rng.random() < float(rule["rate"]) and chosen is None:
                chosen = rule
        return chosen


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def version_string(self):
        return "UploadServer"  # the Server header of Google's storage front end

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("gcs_fake: " + (fmt % args) + "\n")

    # ---- plumbing ----
    def read_body(self, spill=False):
        """The request's bytes; with spill (a media upload) and a Content-Length over --spill-over,
        a FileBytes streamed to disk a MiB at a time, its MD5 taken on the way."""
        limit = self.server.state.args.spill_over
        length = int(self.headers.get("Content-Length") or 0)
        if spill and limit and length > limit:
            state = self.server.state
            with state.lock:
                state.spills += 1
                path = os.path.join(state.spill_dir, "object-%d" % state.spills)
            md5, left = hashlib.md5(), length
            with open(path, "wb") as out:
                while left > 0:
                    piece = self.rfile.read(min(left, 1 << 20))
                    if not piece:
                        raise ConnectionError("the client went away mid-upload")
                    md5.update(piece)
                    out.write(piece)
                    left -= len(piece)
            return FileBytes(path, length, base64.b64encode(md5.digest()).decode())
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send(self, status, body=b"", content_type="application/json; charset=UTF-8", headers=None, truncate=False,
             hang=None):
        data = body if isinstance(body, bytes) else json.dumps(body, indent=1).encode()
        self.send_response(status, "Resume Incomplete" if status == 308 else None)
        if status not in (204, 304) and (data or status != 308):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if truncate or hang:  # announce everything, deliver half, hang up (or first hang: fault "hang")
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            if hang:
                state = self.server.state
                with state.lock:
                    state.hangs.append({"detail": hang, "bytes": len(data) // 2, "of": len(data),
                                        "ts_ms": round(time.time() * 1000, 3)})
                    release = state.release
                sys.stderr.write(f"gcs_fake: hang at {hang} {len(data) // 2} of {len(data)} bytes\n")
                sys.stderr.flush()
                release.wait(HANG_MAX_SECONDS)
            return
        self._headers_buffer.append(b"\r\n" + data)  # headers and body in one write
        self.flush_headers()

    def hang_unapplied(self, detail):
        """Fault "hang" with "before": the request is neither applied nor answered (a client killed
        while its upload was on the way), until release, a reset or HANG_MAX_SECONDS."""
        state = self.server.state
        with state.lock:
            state.hangs.append({"detail": detail, "bytes": 0, "of": 0, "before": True,
                                "ts_ms": round(time.time() * 1000, 3)})
            release = state.release
        sys.stderr.write(f"gcs_fake: hang at {detail} before applying it\n")
        sys.stderr.flush()
        release.wait(HANG_MAX_SECONDS)
        self.close_connection = True

    def base(self):
        return "http://" + (self.headers.get("Host") or "%s:%d" % self.server.server_address[:2])

    # ---- verbs ----
    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def do_PATCH(self):
        self.route("PATCH")

    def route(self, method):
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        media_upload = method == "POST" and UPLOAD.match(url.path) and params.get("uploadType", "media") == "media"
        body = self.read_body(spill=bool(media_upload))
        if url.path.startswith("/_fake/"):
            return self.control(method, url.path, params, body)
        if method in ("GET", "HEAD") and "X-Goog-Signature" in params:
            return self.signed_get(method, url.path, params)
        target = self.classify(method, url.path, params)
        if target is None:
            return self.send(404, b"Not Found", "text/html; charset=UTF-8")
        op, kind, bucket, name, call = target
        self.api(method, op, kind, bucket, name, params, body, call)

    def classify(self, method, path, params):
        """(op, kind, bucket, object, callable) for an API path, or None."""
        store = self.server.state.store
        m = UPLOAD.match(path)
        if m:
            bucket = unquote(m.group(1))
            if method == "POST":
                kind = {"media": "media", "multipart": "multipart", "resumable": "resumable-start"}.get(
                    params.get("uploadType"), "media")
                return "upload", kind, bucket, params.get("name"), lambda p, b: self.upload(kind, bucket, p, b)
            if method in ("PUT", "DELETE") and params.get("upload_id"):
                session = store.sessions.get(params["upload_id"])
                name = session.name if session else None
                if method == "DELETE":
                    return "upload", "resumable-cancel", bucket, name, lambda p, b: self.cancel(p)
                question = (self.headers.get("Content-Range") or "").strip().startswith("bytes */")
                kind = "resumable-status" if question else "resumable-chunk"
                return "upload", kind, bucket, name, lambda p, b: self.chunk(p, b)
            return None
        m = COMPOSE.match(path)
        if m and method == "POST":
            bucket, name = unquote(m.group(1)), unquote(m.group(2))
            return "compose", "compose", bucket, name, lambda p, b: self.ok(store.compose(bucket, name, p, json_body(b)))
        m = REWRITE.match(path)
        if m and method == "POST":
            sb, so, db, do = (unquote(g) for g in m.groups())
            return "rewrite", "rewrite", db, do, lambda p, b: self.rewrite(sb, so, db, do, p, b)
        m = OBJECT.match(path)
        if m:
            bucket, name = unquote(m.group(2)), unquote(m.group(3))
            if method == "GET":
                media = params.get("alt") == "media" or m.group(1) == "download/storage"
                op = "read" if media else "stat"
                return op, op, bucket, name, lambda p, b: self.get_object(bucket, name, p, media)
            if method == "DELETE":
                return "delete", "delete", bucket, name, lambda p, b: self.delete(bucket, name, p)
            if method == "PATCH":
                return "patch", "patch", bucket, name, lambda p, b: self.ok(store.patch(bucket, name, p, json_body(b)))
            return None
        m = OBJECTS.match(path)
        if m and method == "GET":
            bucket = unquote(m.group(1))
            return "list", "list", bucket, params.get("prefix"), lambda p, b: self.list_objects(bucket, p)
        m = BUCKET.match(path)
        if m and method == "GET":
            bucket = unquote(m.group(1))
            return "bucket", "bucket", bucket, None, lambda p, b: self.get_bucket(bucket)
        return None

    # ---- the API ----
    def api(self, method, op, kind, bucket, name, params, body, call):
        state, args = self.server.state, self.server.state.args
        entry = {"ts_ms": round(time.time() * 1000, 3), "method": method, "op": op, "kind": kind, "bucket": bucket,
                 "object": name, "preconditions": {k: v for k, v in params.items() if k.startswith("if")},
                 "status": 0, "fault": None, "generation": None}
        with state.lock:
            state.requests += 1
            state.log.append(entry)
            rule = state.choose_fault(op, kind, name)
        fault = rule["fault"] if rule else None
        self.rule = rule
        status, obj = 0, None
        try:
            if args.latency_ms:
                time.sleep(args.latency_ms / 1000.0)
            if not self.authorized(kind):
                raise GcsError(401, "required" if not self.headers.get("Authorization") else "authError",
                               "Anonymous caller does not have storage.objects access to the Google Cloud Storage "
                               "object." if not self.headers.get("Authorization") else "Invalid Credentials")
            if fault == "slow":
                time.sleep(int(rule.get("ms", 500)) / 1000.0)
            if fault == "reset":
                self.close_connection = True
                return
            if fault == "hang" and rule.get("before"):
                self.hang_unapplied(f"{op} {name}")
                return
            if fault in ERROR_FAULTS:
                raise fault_error(int(fault), rule.get("retry_after"))
            if fault == "partial" and kind != "resumable-chunk":
                raise fault_error(503)
            with state.lock:
                result = call(params, body)
            status, headers, payload, content_type, obj = result
            if fault == "lost-response":  # applied; the answer is lost on the way back
                raise fault_error(503)
            self.send(status, payload, content_type, headers, truncate=fault == "truncate",
                      hang=f"{op} {name}" if fault == "hang" else None)
        except GcsError as e:
            status = e.code
            self.send(e.code, e.body() if e.code != 304 else b"", headers=e.headers)
        finally:
            with state.lock:
                entry.update(status=status, fault=fault, generation=obj.generation if obj else None)
                key = str(status)
                state.by_status[key] = state.by_status.get(key, 0) + 1
                state.by_op[op] = state.by_op.get(op, 0) + 1
                if fault:
                    state.by_fault[fault] = state.by_fault.get(fault, 0) + 1

    def authorized(self, kind):
        token = self.server.state.args.require_bearer
        if not token or kind in ("resumable-chunk", "resumable-status", "resumable-cancel"):
            return True  # the session URI itself authorises its chunks
        return self.headers.get("Authorization", "") == "Bearer " + token

    def ok(self, obj, status=200):
        return status, None, obj.resource(self.base()), "application/json; charset=UTF-8", obj

    def upload(self, kind, bucket, params, body):
        store = self.server.state.store
        if kind == "media":
            expect = goog_hash(self.headers.get("x-goog-hash"))
            return self.ok(store.insert(bucket, params.get("name"), body, self.headers.get("Content-Type"), params,
                                        expect=expect))
        if kind == "multipart":
            meta, media, media_type = parse_multipart(self.headers.get("Content-Type", ""), body)
            expect = {"crc32c": meta.get("crc32c"), "md5": meta.get("md5Hash")}
            return self.ok(store.insert(bucket, params.get("name") or meta.get("name"), media,
                                        meta.get("contentType") or media_type, params, meta.get("metadata"), expect))
        meta = json_body(body) if body else {}
        name = params.get("name") or meta.get("name")
        content_type = self.headers.get("X-Upload-Content-Type") or meta.get("contentType")
        total = self.headers.get("X-Upload-Content-Length")
        upload_id = store.start_session(bucket, name, content_type, params, int(total) if total else None,
                                        meta.get("metadata"))
        location = (f"{self.base()}/upload/storage/v1/b/{bucket}/o?uploadType=resumable&"
                    f"name={quote_all(name)}&upload_id={upload_id}")
        return 200, {"Location": location, "X-GUploader-UploadID": upload_id}, b"", "text/plain", None

    def chunk(self, params, body):
        keep = None
        if self.rule and self.rule["fault"] == "partial":  # keep part of the chunk (default: half)
            keep = int(self.rule.get("keep_bytes", len(body) // 2 // QUANTUM * QUANTUM))
        result = self.server.state.store.put_chunk(params["upload_id"], self.headers.get("Content-Range"), body,
                                                   keep=keep, expect=goog_hash(self.headers.get("x-goog-hash")))
        if isinstance(result, int):
            if keep is not None:
                raise fault_error(503)  # kept part of the chunk, then the connection "broke"
            return 308, ({"Range": f"bytes=0-{result - 1}"} if result else {}), b"", "text/plain", None
        return self.ok(result)

    def cancel(self, params):
        self.server.state.store.cancel(params["upload_id"])
        return 499, None, b"", "text/plain", None

    def rewrite(self, sb, so, db, do, params, body):
        obj = self.server.state.store.rewrite(sb, so, db, do, params, json_body(body) if body else {})
        size = str(len(obj.data))
        return 200, None, {"kind": "storage#rewriteResponse", "totalBytesRewritten": size, "objectSize": size,
                           "done": True, "resource": obj.resource(self.base())}, "application/json", obj

    def get_object(self, bucket, name, params, media):
        store = self.server.state.store
        obj = store.live(bucket, name, params)
        store.check(obj, params, read=True)
        if not media:
            return self.ok(obj)
        headers = {"x-goog-generation": str(obj.generation), "x-goog-metageneration": str(obj.metageneration),
                   "x-goog-hash": obj.hash_header(), "x-goog-stored-content-length": str(len(obj.data)),
                   "x-goog-stored-content-encoding": "identity", "ETag": f'"{obj.generation}"',
                   "Accept-Ranges": "bytes"}
        data, status = obj.data, 200
        m = re.match(r"^bytes=(\d*)-(\d*)$", self.headers.get("Range", "").strip())
        if m and (m.group(1) or m.group(2)):
            size = len(data)
            first = int(m.group(1)) if m.group(1) else max(0, size - int(m.group(2)))
            last = min(size - 1, int(m.group(2))) if m.group(1) and m.group(2) else size - 1
            if first >= size:
                raise GcsError(416, "requestedRangeNotSatisfiable", "Request range not satisfiable")
            data, status = data[first:last + 1], 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        elif isinstance(data, FileBytes):
            data = data[:]  # a whole read of a spilled object: into memory after all
        return status, headers, data, obj.content_type, obj

    def delete(self, bucket, name, params):
        self.server.state.store.delete(bucket, name, params)
        return 204, None, b"", "text/plain", None

    def list_objects(self, bucket, params):
        items, prefixes, token = self.server.state.store.list(bucket, params)
        out = {"kind": "storage#objects"}
        if items:
            out["items"] = [o.resource(self.base()) for o in items]
        if prefixes:
            out["prefixes"] = prefixes
        if token:
            out["nextPageToken"] = token
        return 200, None, out, "application/json; charset=UTF-8", None

    def get_bucket(self, bucket):
        self.server.state.store.bucket(bucket)
        return 200, None, {"kind": "storage#bucket", "id": bucket, "name": bucket, "location": "US",
                           "storageClass": "STANDARD", "metageneration": "1"}, "application/json", None

    def signed_get(self, method, path, params):
        """A path-style V4 signed URL (/bucket/object?X-Goog-...), as the XML API serves it. Checked:
        X-Goog-Date + X-Goog-Expires against the clock (an expired URL gets Google's 400
        ExpiredToken); the signature itself is not verified (tests verify it with openssl)."""
        state = self.server.state
        parts = path.lstrip("/").split("/", 1)
        try:
            signed_at = calendar.timegm(time.strptime(params.get("X-Goog-Date", ""), "%Y%m%dT%H%M%SZ"))
            expires = int(params.get("X-Goog-Expires", ""))
        except ValueError:
            return self.send(400, b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AuthorizationQueryParametersError</Code>"
                             b"<Message>Invalid X-Goog-Date or X-Goog-Expires.</Message></Error>", "application/xml; charset=UTF-8")
        with state.lock:
            state.signed_gets += 1
        if time.time() > signed_at + expires:
            with state.lock:
                state.signed_expired += 1
            return self.send(400, b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code>"
                             b"<Message>Invalid argument.</Message></Error>", "application/xml; charset=UTF-8")
        obj = state.store.buckets.get(unquote(parts[0]), {}).get(unquote(parts[1])) if len(parts) == 2 else None
        if obj is None:
            return self.send(404, b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>"
                             b"<Message>The specified key does not exist.</Message></Error>", "application/xml; charset=UTF-8")
        return self.send(200, b"" if method == "HEAD" else obj.data[:], obj.content_type)

    # ---- control API ----
    def control(self, method, path, params, raw):
        state = self.server.state
        if method == "GET":
            with state.lock:
                if path == "/_fake/stats":
                    body = {"requests": state.requests, "by_status": state.by_status, "by_op": state.by_op,
                            "by_fault": state.by_fault,
                            "signed_gets": state.signed_gets, "signed_expired": state.signed_expired,
                            "objects": sum(len(b) for b in state.store.buckets.values()),
                            "buckets": sorted(state.store.buckets)}
                elif path == "/_fake/log":
                    body = state.log
                elif path == "/_fake/faults":
                    body = {"rules": state.rules}
                elif path == "/_fake/hangs":
                    body = state.hangs
                elif path == "/_fake/dump":
                    body = dump(state.store, params.get("bucket"), params.get("prefix", ""))
                else:
                    body = None
                data = None if body is None else json.dumps(body).encode()
            return self.send(404, b"Not Found", "text/plain") if data is None else self.send(200, data)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if method != "POST" or not isinstance(body, dict):
            return self.send(400, {"error": "POST a JSON object"})
        if path == "/_fake/reset":
            with state.lock:
                state.reset(body.get("seed", state.args.seed), bool(body.get("keep_objects")))
            return self.send(200, {"ok": True})
        if path == "/_fake/release":
            with state.lock:
                state.release.set()
                state.release = threading.Event()
            return self.send(200, {"ok": True})
        if path != "/_fake/faults":
            return self.send(404, b"Not Found", "text/plain")
        rules = body.get("rules", [])
        for rule in rules if isinstance(rules, list) else [None]:
            problem = check_rule(rule)
            if problem:
                return self.send(400, {"error": f"bad rule {rule}: {problem}"})
        with state.lock:
            if "seed" in body:
                state.rng = random.Random(body["seed"])
            state.rules = [dict(r, remaining=int(r.get("first_n", 0))) for r in rules]
        self.send(200, {"ok": True, "rules": len(rules)})


def check_rule(rule):
    if not isinstance(rule, dict) or rule.get("fault") not in FAULTS:
        return f"fault must be one of {sorted(FAULTS)}"
    if "rate" not in rule and "first_n" not in rule:
        return "needs rate and/or first_n"
    try:
        float(rule.get("rate", 0)), int(rule.get("first_n", 0)), int(rule.get("ms", 0))
    except (TypeError, ValueError):
        return "rate, first_n and ms must be numbers"
    ops = rule.get("ops", [])
    if not isinstance(ops, list) or any(o not in OPS | KINDS for o in ops):
        return f"ops must be a list of {sorted(OPS | KINDS)}"
    return None


def dump(store, bucket, prefix):
    objects = []
    for name, o in sorted(store.buckets.get(bucket, {}).items()):
        if name.startswith(prefix):
            entry = {"name": name, "generation": o.generation, "metageneration": o.metageneration,
                     "size": len(o.data), "componentCount": o.components, "contentType": o.content_type,
                     "crc32c": None if o.crc is None else b64_crc(o.crc), "md5Hash": o.md5}
            if isinstance(o.data, FileBytes):
                objects.append(entry)  # its bytes stay on disk (--spill-over)
                continue
            entry["data_b64"] = base64.b64encode(o.data).decode()
            try:
                entry["text"] = o.data.decode("utf-8")
            except UnicodeDecodeError:
                pass
            objects.append(entry)
    return {"bucket": bucket, "prefix": prefix, "objects": objects}


def json_body(raw):
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise bad_request("Parse Error", "parseError")
    if not isinstance(body, dict):
        raise bad_request("Parse Error", "parseError")
    return body


def goog_hash(header):
    """{'crc32c': ..., 'md5': ...} from an x-goog-hash header."""
    out = {}
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key in ("crc32c", "md5") and value:
            out[key] = value
    return out


def parse_multipart(content_type, body):
    """(metadata dict, media bytes, media content type) of a multipart/related upload (RFC 2387):
    part one is the JSON metadata, part two the bytes."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/related") or not m:
        raise bad_request("Content-Type must be multipart/related with a boundary for uploadType=multipart")
    parts = []
    for piece in body.split(b"--" + m.group(1).encode())[1:]:
        if piece.startswith(b"--"):
            break  # the closing delimiter
        head, sep, content = piece.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise bad_request("Malformed multipart body")
        headers = {}
        for line in head.split(b"\r\n"):
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        parts.append((headers, content.removesuffix(b"\r\n")))  # that CRLF belongs to the delimiter
    if len(parts) != 2:
        raise bad_request("Multipart upload needs exactly two parts: metadata and media")
    meta = json_body(parts[0][1])
    return meta, parts[1][1], parts[1][0].get("content-type", "application/octet-stream")


def quote_all(s):
    return quote(s or "", safe="")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away
        super().handle_error(request, client_address)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--port-file", help="the chosen port is written here once the server listens")
    p.add_argument("--bucket", action="append", default=[],
                   help="a bucket that exists (repeatable); without any, buckets appear on first use")
    p.add_argument("--require-bearer", default="", help="accept only 'Authorization: Bearer TOKEN'")
    p.add_argument("--max-components", type=int, default=0,
                   help="refuse composites with more components (0 = no limit; older docs said 1024)")
    p.add_argument("--latency-ms", type=int, default=0, help="added to every API answer")
    p.add_argument("--seed", type=int, default=1, help="seed of the fault RNG")
    p.add_argument("--spill-over", type=int, default=0,
                   help="media uploads over this many bytes are kept in a file under TMPDIR, not in memory "
                        "(such objects have an MD5 but no CRC32C; 0 = never)")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)

    server = Server((args.host, args.port), Handler)
    server.state = State(args)
    fake_common.serve(server, "gcs_fake", args.host, args.port_file)


if __name__ == "__main__":
    main()
