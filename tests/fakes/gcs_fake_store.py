"""The object store behind gcs_fake.py: buckets, objects with generations, preconditions, compose,
resumable sessions, listing, and the JSON shapes of Google's answers. No HTTP here.

Wire references (what each shape follows):
  object resource   https://cloud.google.com/storage/docs/json_api/v1/objects#resource
  preconditions     https://cloud.google.com/storage/docs/request-preconditions (412 / 304)
  errors            https://cloud.google.com/storage/docs/json_api/v1/status-codes
  compose           https://cloud.google.com/storage/docs/json_api/v1/objects/compose
  resumable uploads https://cloud.google.com/storage/docs/performing-resumable-uploads
Python 3 standard library only.
"""

import base64
import datetime
import hashlib
import time
from urllib.parse import quote

QUANTUM = 256 * 1024  # resumable chunks other than the last: multiples of this
MAX_COMPOSE_SOURCES = 32


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data, previous=0):
    """CRC32C (Castagnoli), continuing from a previous value like the C++ client's."""
    c = previous ^ 0xFFFFFFFF
    table = CRC_TABLE
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def b64_crc(value):
    return base64.b64encode(value.to_bytes(4, "big")).decode()


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class GcsError(Exception):
    """An answer in the JSON API's error format (status-codes page)."""

    def __init__(self, code, reason, message, headers=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.headers = code, reason, message, headers or {}

    def body(self):
        return {"error": {"code": self.code, "message": self.message,
                          "errors": [{"message": self.message, "domain": "global", "reason": self.reason}]}}


def not_found_object(bucket, name):
    return GcsError(404, "notFound", f"No such object: {bucket}/{name}")


def precondition_failed():
    return GcsError(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.")


def bad_request(message, reason="invalid"):
    return GcsError(400, reason, message)


class FileBytes:
    """An object's bytes kept in a file (gcs_fake.py --spill-over): len() and slices read from
    disk, so an object of gigabytes (a large batch's predictions) costs the fake no memory. Its
    CRC32C is not known: in pure Python it would take minutes a gigabyte, so such an object has
    only an MD5 (hashlib's, computed while the upload streamed in)."""

    def __init__(self, path, size, md5):
        self.path, self.size, self.md5 = path, size, md5

    def __len__(self):
        return self.size

    def __getitem__(self, span):
        start, stop, _ = span.indices(self.size)
        with open(self.path, "rb") as f:
            f.seek(start)
            return f.read(max(0, stop - start))


class Obj:
    def __init__(self, bucket, name, data, content_type, generation, components=1, metadata=None, crc=None):
        now = time.time()
        spilled = isinstance(data, FileBytes)
        self.bucket, self.name, self.data = bucket, name, data if spilled else bytes(data)
        self.content_type = content_type or "application/octet-stream"
        self.generation, self.metageneration = generation, 1
        self.created = self.updated = now
        self.components = components
        self.metadata = metadata or {}
        self.crc = crc if crc is not None or spilled else crc32c(self.data)  # None: not known
        self.md5 = None if components > 1 else data.md5 if spilled else base64.b64encode(
            hashlib.md5(self.data).digest()).decode()

    def resource(self, base):
        quoted = quote(self.name, safe="")
        r = {"kind": "storage#object", "id": f"{self.bucket}/{self.name}/{self.generation}",
             "selfLink": f"{base}/storage/v1/b/{self.bucket}/o/{quoted}",
             "mediaLink": f"{base}/download/storage/v1/b/{self.bucket}/o/{quoted}?generation={self.generation}&alt=media",
             "name": self.name, "bucket": self.bucket, "generation": str(self.generation),
             "metageneration": str(self.metageneration), "contentType": self.content_type,
             "storageClass": "STANDARD", "size": str(len(self.data)),
             "etag": base64.b64encode(f"{self.generation}/{self.metageneration}".encode()).decode(),
             "timeCreated": rfc3339(self.created), "updated": rfc3339(self.updated),
             "timeStorageClassUpdated": rfc3339(self.created)}
        if self.crc is not None:
            r["crc32c"] = b64_crc(self.crc)
        if self.md5 is not None:
            r["md5Hash"] = self.md5
        if self.components > 1:
            r["componentCount"] = self.components
        if self.metadata:
            r["metadata"] = dict(self.metadata)
        return r

    def hash_header(self):
        parts = ([f"crc32c={b64_crc(self.crc)}"] if self.crc is not None else []) + \
            ([f"md5={self.md5}"] if self.md5 else [])
        return ",".join(parts)


class Session:
    """One resumable upload: the bytes kept so far, and the object once finished."""

    def __init__(self, bucket, name, content_type, preconditions, total, metadata):
        self.bucket, self.name, self.content_type = bucket, name, content_type
        self.preconditions, self.total, self.metadata = preconditions, total, metadata
        self.data, self.done = bytearray(), None


def _int(params, name):
    v = params.get(name)
    if v is None or v == "":
        return None
    try:
        return int(v)
    except ValueError:
        raise bad_request(f"Invalid value for {name}: {v}", "invalidParameter")


class Store:
    """All buckets and sessions. The caller holds the server's lock around every method."""

    def __init__(self, fixed_buckets, max_components):
        self.fixed = list(fixed_buckets)
        self.max_components = max_components
        self.reset()

    def reset(self):
        self.buckets = {b: {} for b in self.fixed}
        self.sessions, self.last_generation, self.next_session = {}, 0, 1

    def new_generation(self):
        """Increasing, from the microsecond clock like the real service's."""
        self.last_generation = max(self.last_generation + 1, int(time.time() * 1_000_000))
        return self.last_generation

    def bucket(self, name, create=True):
        if name not in self.buckets:
            if self.fixed or not create:
                raise GcsError(404, "notFound", "The specified bucket does not exist.")
            self.buckets[name] = {}
        return self.buckets[name]

    # ---- preconditions ----
    def check(self, obj, params, read=False):
        """Evaluates if(Meta)generation(Not)Match against obj (None = absent): 412, or 304 for a
        *NotMatch that fails on a read."""
        gm, gnm = _int(params, "ifGenerationMatch"), _int(params, "ifGenerationNotMatch")
        mm, mnm = _int(params, "ifMetagenerationMatch"), _int(params, "ifMetagenerationNotMatch")
        gen = obj.generation if obj else 0
        if gm is not None and gm != gen:
            raise precondition_failed()
        if mm is not None and (obj is None or obj.metageneration != mm):
            raise precondition_failed()
        not_modified = (gnm is not None and obj is not None and gen == gnm) or \
                       (mnm is not None and obj is not None and obj.metageneration == mnm)
        if not_modified:
            raise GcsError(304, "notModified", "Not Modified") if read else precondition_failed()

    def live(self, bucket, name, params):
        """The live object (matching ?generation= when given) or 404."""
        obj = self.bucket(bucket).get(name)
        want = _int(params, "generation")
        if obj is None or (want is not None and want != obj.generation):
            raise not_found_object(bucket, name)
        return obj

    # ---- operations ----
    def insert(self, bucket, name, data, content_type, params, metadata=None, expect=None):
        objects = self.bucket(bucket)
        if not name:
            raise bad_request("Required", "required")
        self.check(objects.get(name), params)
        spilled = isinstance(data, FileBytes)
        crc = None if spilled else crc32c(data)
        for kind, given in (expect or {}).items():
            if kind == "crc32c" and crc is None:
                continue  # not known for a spilled object (FileBytes)
            actual = b64_crc(crc) if kind == "crc32c" else data.md5 if spilled else \
                base64.b64encode(hashlib.md5(data).digest()).decode()
            if given and given != actual:
                label = "CRC32C" if kind == "crc32c" else "MD5"
                raise bad_request(f'Provided {label} "{given}" doesn\'t match calculated {label} "{actual}".')
        obj = Obj(bucket, name, data, content_type, self.new_generation(), metadata=metadata, crc=crc)
        objects[name] = obj
        return obj

    def delete(self, bucket, name, params):
        obj = self.live(bucket, name, params)
        self.check(obj, params)
        del self.buckets[bucket][name]

    def patch(self, bucket, name, params, body):
        obj = self.live(bucket, name, params)
        self.check(obj, params)
        if "contentType" in body:
            obj.content_type = body["contentType"]
        if isinstance(body.get("metadata"), dict):
            obj.metadata.update({k: v for k, v in body["metadata"].items() if v is not None})
        obj.metageneration += 1
        obj.updated = time.time()
        return obj

    def compose(self, bucket, name, params, body):
        objects = self.bucket(bucket)
        sources = body.get("sourceObjects") if isinstance(body, dict) else None
        if not isinstance(sources, list) or not sources:
            raise bad_request("Required", "required")
        if len(sources) > MAX_COMPOSE_SOURCES:
            raise bad_request(f"The number of source components provided ({len(sources)}) exceeds the maximum "
                              f"({MAX_COMPOSE_SOURCES})")
        parts, crc, components = [], 0, 0
        for s in sources:
            src = objects.get(s.get("name", "")) if isinstance(s, dict) else None
            if src is None:
                raise not_found_object(bucket, s.get("name", "") if isinstance(s, dict) else "")
            if s.get("generation") is not None and int(s["generation"]) != src.generation:
                raise not_found_object(bucket, src.name)
            pre = (s.get("objectPreconditions") or {}).get("ifGenerationMatch")
            if pre is not None and int(pre) != src.generation:
                raise precondition_failed()
            if isinstance(src.data, FileBytes):
                raise bad_request("The fake cannot compose an object kept on disk (--spill-over)")
            parts.append(src.data)
            crc = crc32c(src.data, crc) if components else src.crc
            components += src.components
        if self.max_components and components > self.max_components:
            raise bad_request(f"The number of components in the composite object ({components}) exceeds the "
                              f"maximum ({self.max_components})")
        self.check(objects.get(name), params)
        dest = body.get("destination") or {}
        obj = Obj(bucket, name, b"".join(parts), dest.get("contentType") or objects[sources[0]["name"]].content_type,
                  self.new_generation(), components=components, metadata=dest.get("metadata"), crc=crc)
        objects[name] = obj
        return obj

    def rewrite(self, src_bucket, src_name, dst_bucket, dst_name, params, body):
        src = self.live(src_bucket, src_name, {"generation": params.get("sourceGeneration")})
        self.check(self.bucket(dst_bucket).get(dst_name), params)
        dest = body if isinstance(body, dict) else {}
        obj = Obj(dst_bucket, dst_name, src.data, dest.get("contentType") or src.content_type,
                  self.new_generation(), metadata=dest.get("metadata") or src.metadata, crc=src.crc)
        self.buckets[dst_bucket][dst_name] = obj  # rewriting resets componentCount to 1
        return obj

    def list(self, bucket, params):
        prefix, delimiter = params.get("prefix", ""), params.get("delimiter", "")
        start, end = params.get("startOffset", ""), params.get("endOffset", "")
        try:
            limit = max(1, min(1000, int(params.get("maxResults") or 1000)))
        except ValueError:
            raise bad_request("Invalid value for maxResults", "invalidParameter")
        after = ""
        if params.get("pageToken"):
            try:
                after = base64.urlsafe_b64decode(params["pageToken"].encode()).decode()
            except ValueError:
                raise bad_request("Invalid page token", "invalidParameter")
        items, prefixes, token = [], set(), None
        for name in sorted(self.bucket(bucket)):
            if not name.startswith(prefix) or name <= after or (start and name < start) or (end and name >= end):
                continue
            if len(items) + len(prefixes) >= limit:
                token = base64.urlsafe_b64encode(last.encode()).decode()
                break
            cut = name.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                prefixes.add(name[:cut + len(delimiter)])
            else:
                items.append(self.buckets[bucket][name])
            last = name
        return items, sorted(prefixes), token

    # ---- resumable sessions ----
    def start_session(self, bucket, name, content_type, params, total, metadata):
        if not name:
            raise bad_request("Required", "required")
        self.check(self.bucket(bucket).get(name), params)
        upload_id = f"fake-{self.next_session}-{hashlib.sha256(f'{bucket}/{name}/{time.time()}'.encode()).hexdigest()[:16]}"
        self.next_session += 1
        pre = {k: v for k, v in params.items() if k.startswith("if")}
        self.sessions[upload_id] = Session(bucket, name, content_type, pre, total, metadata)
        return upload_id

    def put_chunk(self, upload_id, content_range, data, keep=None, expect=None):
        """Applies one PUT to a session: returns the finished Obj or the bytes kept (an int)."""
        s = self.sessions.get(upload_id)
        if s is None:
            raise GcsError(404, "notFound", "No such upload session.")
        if s.done is not None:
            return s.done
        first, total = parse_content_range(content_range)
        if total is not None:
            s.total = total
        if first is not None:
            if first > len(s.data):
                raise bad_request(f"Invalid request. According to the Content-Range header, the upload offset is "
                                  f"{first} byte(s), which exceeds already uploaded size of {len(s.data)} byte(s).")
            fresh = data[len(s.data) - first:]
            final = s.total is not None and first + len(data) == s.total
            if not final:
                if len(data) < QUANTUM:
                    raise bad_request("Invalid request. The number of bytes uploaded is required to be equal or "
                                      f"greater than {QUANTUM}, except for the final request (it's recommended to be "
                                      f"the exact multiple of {QUANTUM}). The received request contained "
                                      f"{len(data)} bytes, which does not meet this requirement.")
                whole = (first + len(data)) // QUANTUM * QUANTUM  # the server keeps whole quanta
                fresh = fresh[: max(0, whole - len(s.data))]
            if keep is not None:
                fresh = fresh[:keep]
            s.data += fresh
        if s.total is not None and len(s.data) == s.total and keep is None:
            s.done = self.insert(s.bucket, s.name, bytes(s.data), s.content_type, s.preconditions,
                                 metadata=s.metadata, expect=expect)
            return s.done
        return len(s.data)

    def cancel(self, upload_id):
        if self.sessions.pop(upload_id, None) is None:
            raise GcsError(404, "notFound", "No such upload session.")


def parse_content_range(value):
    """'bytes A-B/T', 'bytes A-B/*', 'bytes */T', 'bytes */*' → (A or None, T or None)."""
    value = (value or "").strip()
    if not value:
        return None, None
    try:
        unit, rest = value.split(" ", 1)
        span, total = rest.split("/", 1)
        if unit != "bytes":
            raise ValueError
        first = None if span == "*" else int(span.split("-", 1)[0])
        return first, None if total == "*" else int(total)
    except ValueError:
        raise bad_request(f"Failed to parse Content-Range header: {value}")
