#!/usr/bin/env python3
"""A loopback fake of Google's generateContent for image models (Gemini API and Vertex AI).

How this works: one ThreadingHTTPServer answers
  POST /v1beta/models/{model}:generateContent                      (Gemini API, x-goog-api-key)
  POST /{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent
                                                                   (Vertex AI, Authorization: Bearer)
It checks credentials and the body the way the real services do (unknown fields, candidateCount,
roles, base64, sizes) and answers with a real PNG and realistic usageMetadata. Faults are chosen per
request, first from markers in the prompt ("[fault:429]"), then from rules set through the control
API (POST /_fake/faults); rates are drawn from one seeded RNG under a lock, so a run is repeatable
for a given arrival order. GET /_fake/stats and GET /_fake/log let tests assert concurrency, retry
timing and deduplication. Which Google document each behaviour follows: tests/fakes/README.md.
Python 3 standard library only.
"""

import argparse
import base64
import binascii
import hashlib
import http.server
import json
import math
import os
import random
import re
import struct
import sys
import threading
import time
import zlib
from urllib.parse import parse_qs, urlsplit

import fake_common  # noqa: E402 (beside this file)
import gemini_batch_fake  # noqa: E402 (the Batch API and Files API, beside this file)
import vertex_batch_fake  # noqa: E402 (Vertex AI batch prediction, beside this file)

MAX_REQUEST_BYTES = 20 * 1024 * 1024  # inline data limit of the whole request
INPUT_MIME = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}
ASPECT_RATIOS = {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
                 "1:4", "4:1", "1:8", "8:1"}
IMAGE_SIZES = {"512", "1K", "2K", "4K"}
FAULTS = {"400", "403", "429", "500", "503", "504", "hang", "truncate", "malformed", "block-prompt",
          "image-safety", "image-prohibited", "no-image", "text-only"}
TOKENS_PER_IMAGE_IN, TOKENS_PER_IMAGE_OUT = 258, 1290
# ---- quota faults (429s told apart): 429-minute, 429-daily, 429-spend, 429-billing ----
# "429-minute" is the per-minute 429 ("429" as it always was, RetryInfo from the marker or
# --retry-delay); "429-daily" a per-day quota (quotaId ...PerDay..., a RetryInfo that does not
# mean it); "429-spend" a spend-based rate limit; "429-billing" a billing account past its cap.
# Bodies: tests/fakes/README.md (the spend body is our construction; Google documents none).
QUOTA_FAULTS = {"429-minute", "429-daily", "429-spend", "429-billing"}
FAULTS |= QUOTA_FAULTS


def quota_error(fault, model, vertex, delay):
    if fault == "429-minute":
        return None  # the plain "429" body
    if fault == "429-billing":
        return ApiError(429, "RESOURCE_EXHAUSTED",
                        "Your billing account has exceeded its monthly spending cap. Please go to AI Studio at "
                        "https://aistudio.google.com to manage your billing. Learn more at "
                        "https://ai.google.dev/gemini-api/docs/billing.", [], {})
    if fault == "429-daily":
        quota_id, metric, value = ("GenerateRequestsPerDayPerProjectPerModel",
                                   "generativelanguage.googleapis.com/generate_content_paid_tier_requests", "250")
        message = (f"You exceeded your current quota, please check your plan and billing details.\n* Quota "
                   f"exceeded for metric: {metric}, limit: {value}, model: {model}\nPlease retry in 19.4s.")
        delay = delay or "19s"
    else:
        quota_id, metric, value = ("GenerateContentSpendPer10MinutesPerProject-Tier1",
                                   "generativelanguage.googleapis.com/generate_content_spend_usd", "10")
        message = "You exceeded your spend-based rate limit of $10 per 10 minutes for this usage tier."
    details = [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                   {"quotaMetric": metric, "quotaId": quota_id,
                    "quotaDimensions": {"location": "global", "model": model}, "quotaValue": value}]}]
    if delay:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay})
    return ApiError(429, "RESOURCE_EXHAUSTED", message, details, {})
# ---- end of quota faults ----
BLOCKED_THOUGHTS_TOKENS = 240  # thoughtsTokenCount of an answer withheld for safety
# Output tokens of one image by model and imageSize, as Google's pages state them (pricing page;
# Vertex's Gemini 3.1 Flash Image page): other models bill TOKENS_PER_IMAGE_OUT (2.5 Flash Image).
IMAGE_TOKENS = {"gemini-3.1-flash-image": {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520},
                "gemini-3-pro-image": {"1K": 1120, "2K": 1120, "4K": 2000}}


def image_tokens_out(model, size):
    by_size = IMAGE_TOKENS.get(model[:-len("-preview")] if model.endswith("-preview") else model)
    return by_size.get(size or "1K", TOKENS_PER_IMAGE_OUT) if by_size else TOKENS_PER_IMAGE_OUT

GEMINI_PATH = re.compile(r"^/(v1beta|v1)/models/([^/:]+):generateContent$")
VERTEX_PATH = re.compile(r"^/(v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/publishers/google/models/"
                         r"([^/:]+):generateContent$")
# ---- edge faults (oversized answers): huge, huge-chunked ----
# "huge": a 200 whose Content-Length announces --huge-bytes and whose body (a JSON answer with one
# enormous inlineData) streams that many bytes; "huge-chunked": the same body without a length, the
# end marked by closing the connection, so only the bytes received tell the client it is too big.
EDGE_FAULTS = {"huge", "huge-chunked"}
FAULTS = FAULTS | EDGE_FAULTS


def send_huge(handler, fault):
    """Streams a --huge-bytes answer in 1 MiB writes; a client that gives up ends it early."""
    size = handler.server.state.args.huge_bytes
    head = b'{"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"'
    tail = b'"}}]},"finishReason":"STOP","index":0}]}'
    filler = max(0, size - len(head) - len(tail))
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json; charset=UTF-8")
    if fault == "huge":
        handler.send_header("Content-Length", str(len(head) + filler + len(tail)))
    else:
        handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True
    chunk = b"A" * (1 << 20)
    try:
        handler.wfile.write(head)
        while filler > 0:
            n = min(filler, len(chunk))
            handler.wfile.write(chunk[:n])
            filler -= n
        handler.wfile.write(tail)
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        pass
    return 200
# ---- end of edge faults ----

MARKER = re.compile(r"\[fault:([a-z0-9-]+)(?::([0-9.]+s))?(?:\*(\d+))?\]")
LATENCY_MARKER = re.compile(r"\[latency-ms:(\d+)\]")


def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def fields(*camel):
    """Known proto fields: the API accepts the camelCase and the snake_case spelling."""
    return set(camel) | {snake(c) for c in camel}


REQUEST_FIELDS = fields("contents", "tools", "toolConfig", "safetySettings", "systemInstruction",
                        "generationConfig", "cachedContent", "serviceTier")
# The inference tier (ai.google.dev/gemini-api/docs/flex-inference, priority-inference): the
# `service_tier` field of the request body; standard when omitted. Recorded per request in the
# log ("service_tier") and counted in /_fake/stats ("by_tier"); billed and answered as usual.
SERVICE_TIERS = ("standard", "flex", "priority")
VERTEX_REQUEST_FIELDS = REQUEST_FIELDS | fields("labels", "modelArmorConfig")
CONTENT_FIELDS = fields("role", "parts")
PART_FIELDS = fields("text", "inlineData", "fileData", "thought", "thoughtSignature", "functionCall",
                     "functionResponse", "executableCode", "codeExecutionResult", "videoMetadata")
BLOB_FIELDS = fields("mimeType", "data")
GENERATION_FIELDS = fields("stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
                           "responseModalities", "candidateCount", "maxOutputTokens", "temperature",
                           "topP", "topK", "seed", "presencePenalty", "frequencyPenalty",
                           "responseLogprobs", "logprobs", "speechConfig", "thinkingConfig",
                           "imageConfig", "mediaResolution")
IMAGE_CONFIG_FIELDS = fields("aspectRatio", "imageSize")
VERTEX_IMAGE_CONFIG_FIELDS = IMAGE_CONFIG_FIELDS | fields("personGeneration", "prominentPeople",
                                                          "imageOutputOptions")


# --- Output caps and thinking tokens (issue 13: a hard ceiling per request) -----------------
# generationConfig.maxOutputTokens and thinkingConfig are checked the way the API types them,
# recorded in the request log ("generation_config"), and --thoughts-tokens N reports N
# thoughtsTokenCount on every image answer, whatever the cap: a server that bills past the cap,
# so that a test can see the client stop. Without the flag the fake keeps to the cap: thoughts
# are trimmed so that candidates + thoughts <= maxOutputTokens.
THINKING_FIELDS = fields("thinkingBudget", "thinkingLevel", "includeThoughts")
THINKING_LEVELS = {"minimal", "low", "medium", "high"}
# "[thoughts-tokens:N]" in a prompt: that answer alone reports N thoughtsTokenCount, past any cap.
THOUGHTS_MARKER = re.compile(r"\[thoughts-tokens:(\d+)\]")
# "[usage:<field>=<JSON value>]" in a prompt: that image answer's usageMetadata.<field> is the
# value as written (-5000, 9223372036854775808, 1e300, "-3"): a server whose counts cannot be a bill.
USAGE_MARKER = re.compile(r"\[usage:(\w+)=([^\]]+)\]")


def lie_about_usage(prompt, usage):
    for field, value in USAGE_MARKER.findall(prompt):
        usage[field] = json.loads(value)


def check_output_caps(config):
    cap = get(config, "maxOutputTokens")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        raise bad_request(f"Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), {json.dumps(cap)}",
                          "generation_config.max_output_tokens")
    thinking = get(config, "thinkingConfig")
    if thinking is not None:
        check_fields(thinking, THINKING_FIELDS, "generation_config.thinking_config")
        level = get(thinking, "thinkingLevel")
        if level is not None and str(level).lower() not in THINKING_LEVELS:
            raise bad_request(f"Invalid value at 'generation_config.thinking_config.thinking_level', \"{level}\"",
                              "generation_config.thinking_config.thinking_level")
    return cap


def thoughts_tokens(args, cap, candidates, default):
    """thoughtsTokenCount of one answer: --thoughts-tokens as given, else default kept under the cap."""
    if args.thoughts_tokens is not None:
        return args.thoughts_tokens
    if cap is not None:
        return max(0, min(default, cap - candidates))
    return default
# --- end of output caps ----------------------------------------------------------------------


# ---- corrupt images (issue 13: an image is stored before it is counted) ----------------------------
# "corrupt-image": a 200 answer, with usageMetadata and billed like any other, whose image part
# decodes from base64 to bytes that are no image (the start of an HTML error page).
CORRUPT_IMAGE_FAULTS = {"corrupt-image"}
FAULTS = FAULTS | CORRUPT_IMAGE_FAULTS


def corrupt_image_bytes(digest):
    return b"<!DOCTYPE html><html><title>Error</title>" + digest.hex().encode()
# ---- end of corrupt images ---------------------------------------------------------------------


# ---- models.get / models.list (issue 15: a model exists before money is spent) ----------------
# GET /v1beta/models/{model} answers a Model resource (https://ai.google.dev/api/models) for a model
# in --models (any model when --models is not given) and 404 NOT_FOUND otherwise; GET /v1beta/models
# lists --models (default: DEFAULT_LISTED) with pageSize/pageToken. Vertex AI's publisher model
# (GET /{v1|v1beta1}/publishers/google/models/{model}) answers a PublisherModel the same way.
MODEL_GET_PATH = re.compile(r"^/(v1beta|v1)/models/([^/:]+)$")
MODEL_LIST_PATH = re.compile(r"^/(v1beta|v1)/models$")
PUBLISHER_MODEL_PATH = re.compile(r"^/(v1|v1beta1)/publishers/google/models/([^/:]+)$")
# Vertex AI's publishers.models.list (v1beta1 only): {"publisherModels": [...], "nextPageToken"}.
PUBLISHER_LIST_PATH = re.compile(r"^/v1beta1/publishers/google/models$")
DEFAULT_LISTED = ["gemini-2.5-flash-image", "gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview",
                  "gemini-2.5-flash", "text-embedding-004"]


def model_resource(model):
    image = "image" in model
    methods = ["generateContent", "countTokens", "batchGenerateContent"] if not model.startswith("text-") \
        else ["embedContent"]
    return {"name": "models/" + model, "baseModelId": model, "version": "001", "displayName": model,
            "description": "A fake of " + model, "inputTokenLimit": 65536 if image else 1048576,
            "outputTokenLimit": 32768 if image else 65536, "supportedGenerationMethods": methods,
            "temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2, "thinking": not image}
# ---- end of models.get / models.list ------------------------------------------------------------


class ApiError(Exception):
    """An answer in google.rpc.Status JSON form."""

    def __init__(self, code, status, message, details=None, headers=None):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message
        self.details, self.headers = details or [], headers or {}

    def body(self):
        error = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def bad_request(message, field=None):
    details = None
    if field is not None:
        details = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": field, "description": message}]}]
    return ApiError(400, "INVALID_ARGUMENT", message, details)


def get(obj, camel):
    """obj[camel] or obj[snake_case(camel)]."""
    if camel in obj:
        return obj[camel]
    return obj.get(snake(camel))


def check_fields(obj, allowed, where):
    if not isinstance(obj, dict):
        raise bad_request(f"Invalid value at '{where}': expected an object", where)
    for name in obj:
        if name not in allowed:
            at = f" at '{where}'" if where else ""
            raise bad_request(f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.',
                              where or None)


def validate(body, model, vertex):
    """Checks a GenerateContentRequest; returns (prompt, [image bytes], generation config)."""
    check_fields(body, VERTEX_REQUEST_FIELDS if vertex else REQUEST_FIELDS, "")
    contents = get(body, "contents")
    if not contents:
        raise bad_request("* GenerateContentRequest.contents: contents is not specified\n")
    if not isinstance(contents, list):
        raise bad_request("Invalid value at 'contents': expected a list", "contents")
    prompt, images = [], []
    for i, content in enumerate(contents):
        check_fields(content, CONTENT_FIELDS, f"contents[{i}]")
        role = content.get("role")
        if (vertex and role is None) or (role is not None and role not in ("user", "model")):
            raise bad_request("Please use a valid role: user, model.")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise bad_request(f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n")
        for k, part in enumerate(parts):
            where = f"contents[{i}].parts[{k}]"
            check_fields(part, PART_FIELDS, where)
            if "text" in part:
                if not isinstance(part["text"], str):
                    raise bad_request(f"Invalid value at '{where}.text' (TYPE_STRING)", f"{where}.text")
                prompt.append(part["text"])
            blob = get(part, "inlineData")
            if blob is not None:
                check_fields(blob, BLOB_FIELDS, f"{where}.inline_data")
                mime, data = get(blob, "mimeType"), blob.get("data")
                if mime not in INPUT_MIME:
                    raise bad_request(f"Unsupported MIME type: {mime}")
                try:
                    images.append(base64.b64decode(data if isinstance(data, str) else "", validate=True))
                except (binascii.Error, ValueError):
                    raise bad_request(f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), Base64 "
                                      f"decoding failed for \"{str(data)[:20]}\"", f"{where}.inline_data.data")
    config = get(body, "generationConfig") or {}
    check_fields(config, GENERATION_FIELDS, "generation_config")
    count = get(config, "candidateCount")
    if isinstance(count, int) and count > 1:
        raise bad_request(f"Multiple candidates is not enabled for models/{model}")
    modalities = get(config, "responseModalities") or ["TEXT", "IMAGE"]
    for k, m in enumerate(modalities):
        if not isinstance(m, str) or m.upper() not in ("TEXT", "IMAGE"):
            raise bad_request(f"Invalid value at 'generation_config.response_modalities[{k}]' "
                              f"(type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig."
                              f"Modality), \"{m}\"", f"generation_config.response_modalities[{k}]")
    image_config = get(config, "imageConfig") or {}
    check_fields(image_config, VERTEX_IMAGE_CONFIG_FIELDS if vertex else IMAGE_CONFIG_FIELDS,
                 "generation_config.image_config")
    ratio, size = get(image_config, "aspectRatio"), get(image_config, "imageSize")
    if ratio is not None and ratio not in ASPECT_RATIOS:
        raise bad_request(f"Unsupported aspect ratio: {ratio}", "generation_config.image_config.aspect_ratio")
    if size is not None and size not in IMAGE_SIZES:
        raise bad_request(f"Unsupported image size: {size}. Supported values are 1K, 2K, 4K, 512.",
                          "generation_config.image_config.image_size")
    cap = check_output_caps(config)
    return "\n".join(prompt), images, {"modalities": [m.upper() for m in modalities], "ratio": ratio,
                                        "size": size, "max_output_tokens": cap}


# The pixels of an answer depend only on its size (one gradient a size, compressed once and cached:
# a 1024x1024 answer costs no more CPU than a small one); what makes each answer's bytes its own is
# a private ancillary chunk "fkId" holding the prompt's digest, which decoders skip.
_IDAT_CACHE, _IDAT_LOCK = {}, threading.Lock()


def gradient_idat(width, height):
    with _IDAT_LOCK:
        data = _IDAT_CACHE.get((width, height))
        if data is None:
            rows = bytearray()
            for y in range(height):  # one colour per row
                rows.append(0)  # filter type None
                rows += bytes(((40 + 4 * y) & 255, (90 + 2 * y) & 255, 160)) * width
            data = _IDAT_CACHE[(width, height)] = zlib.compress(bytes(rows), 6)
        return data


def png(width, height, seed_bytes, pad_to=0):
    """A valid RGB PNG: a gradient, marked with seed_bytes, padded by a private ancillary chunk."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    head = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"fkId", bytes(seed_bytes)))
    tail = chunk(b"IDAT", gradient_idat(width, height)) + chunk(b"IEND", b"")
    missing = pad_to - len(head) - len(tail) - 12
    if missing >= 0:  # "paDd": ancillary, private, safe to copy; decoders skip it
        head += chunk(b"paDd", bytes(missing))
    return head + tail


# ---- image sizes (issue 15: the returned image's size is checked) -----------------------------
# An answer has the pixel size Google documents for its model, imageSize and aspectRatio
# (https://ai.google.dev/gemini-api/docs/image-generation, "Aspect ratios and image size"): the
# 2.5 Flash Image column for gemini-2.5-flash-image*, else the 1K column scaled to the size (512 is
# half of 1K). Ratios the table lacks (1:4, 4:1, 1:8, 8:1) get 1K-class sides by the ratio.
# "[fault:wrong-size]" answers half the width and height: a model that ignored the size asked for.
SIZES_25 = {"1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184),
            "4:3": (1184, 864), "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344),
            "16:9": (1344, 768), "21:9": (1536, 672)}
SIZES_1K = {"1:1": (1024, 1024), "2:3": (848, 1264), "3:2": (1264, 848), "3:4": (896, 1200),
            "4:3": (1200, 896), "4:5": (928, 1152), "5:4": (1152, 928), "9:16": (768, 1376),
            "16:9": (1376, 768), "21:9": (1584, 672)}
SIZE_SCALE = {"512": 0.5, "1K": 1, "2K": 2, "4K": 4}
WRONG_SIZE_FAULTS = {"wrong-size"}
FAULTS = FAULTS | WRONG_SIZE_FAULTS


def dimensions(ratio, model="", size=None, fault=None):
    ratio = ratio or "1:1"
    table = SIZES_25 if model.startswith("gemini-2.5-flash-image") else SIZES_1K
    if ratio in table:
        w, h = table[ratio]
    else:
        a, b = (int(v) for v in ratio.split(":"))
        w, h = (1024, max(1, 1024 * b // a)) if a >= b else (max(1, 1024 * a // b), 1024)
    if table is SIZES_1K:
        scale = SIZE_SCALE.get(size or "1K", 1)
        w, h = int(w * scale), int(h * scale)
    if fault in WRONG_SIZE_FAULTS:
        w, h = max(1, w // 2), max(1, h // 2)
    return w, h
# ---- end of image sizes ---------------------------------------------------------------------------


class State:
    """Everything shared between handler threads; one lock guards it."""

    def __init__(self, args):
        self.args, self.lock = args, threading.Lock()
        self.reset(args.seed)

    def reset(self, seed):
        self.rng, self.rules, self.log = random.Random(seed), [], []
        # in_flight is a gauge of live requests: a reset must not zero it, or a request still
        # hanging when the reset came would drive it below zero when it ends.
        self.in_flight = getattr(self, "in_flight", 0)
        self.requests, self.max_in_flight = 0, self.in_flight
        self.by_status, self.by_fault, self.prompt_hits = {}, {}, {}
        self.lookups = []  # models.get / models.list / publisher model GETs (GET /_fake/lookups)
        self.by_tier = {}

    def note(self, entry, **values):
        with self.lock:
            entry.update(values)

    def choose_fault(self, prompt):
        """(fault, retry_delay, retry_after, latency_ms) for one request."""
        with self.lock:
            for name, delay, times in MARKER.findall(prompt):
                if name not in FAULTS:
                    continue
                if times:
                    key = (name, prompt)
                    self.prompt_hits[key] = self.prompt_hits.get(key, 0) + 1
                    if self.prompt_hits[key] > int(times):
                        continue
                return name, delay or None, None, 0
            chosen = None
            for rule in self.rules:  # every rate rule draws, so the sequence does not depend on hits
                fire = False
                if rule.get("remaining", 0) > 0:
                    rule["remaining"] -= 1
                    fire = True
                elif "rate" in rule:
                    fire = self.rng.random() < float(rule["rate"])
                if fire and chosen is None:
                    chosen = (rule["fault"], rule.get("retry_delay"), rule.get("retry_after"),
                              int(rule.get("latency_ms", 0)))
            return chosen or (None, None, None, 0)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # truncate writes headers and body apart; no 40 ms Nagle wait

    def version_string(self):
        return "ESF"  # the Server header of Google's front end

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("gemini_fake: " + (fmt % args) + "\n")

    # ---- plumbing ----
    def read_body(self):
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

    def send(self, status, body, content_type="application/json; charset=UTF-8", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body, indent=2).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        # Headers and body in one write (one syscall, no Nagle wait): end_headers() + flush.
        self._headers_buffer.append(b"\r\n" + data)
        self.flush_headers()

    def not_found(self):
        self.send(404, b"<!DOCTYPE html>\n<html lang=en><title>Error 404 (Not Found)!!1</title>"
                       b"<p><b>404.</b> That's an error.</html>", "text/html; charset=UTF-8")

    # ---- routes ----
    def do_GET(self):
        state, path = self.server.state, urlsplit(self.path).path
        with state.lock:  # serialised under the lock: handler threads update entries
            if path == "/_fake/stats":
                body = {"requests": state.requests, "in_flight": state.in_flight,
                        "max_in_flight": state.max_in_flight, "by_status": state.by_status,
                        "by_fault": state.by_fault, "by_tier": state.by_tier}
            elif path == "/_fake/log":
                body = state.log
            elif path == "/_fake/lookups":
                body = state.lookups
            elif path == "/_fake/faults":
                body = {"rules": state.rules}
            else:
                body = None
            data = None if body is None else json.dumps(body).encode()
        if data is None and path.startswith("/_fake/"):
            with state.batch.store.lock:
                body = state.batch.snapshot(path)
                data = None if body is None else json.dumps(body).encode()
        if data is None and path.startswith("/_fake/vertex-"):
            with state.vertex_batch.lock:
                body = state.vertex_batch.snapshot(path)
                data = None if body is None else json.dumps(body).encode()
        if data is None:
            if (self.model_lookup(path) or state.vertex_batch.route(self, "GET", b"") or
                    state.batch.route(self, "GET", b"")):
                return
            self.not_found()
        else:
            self.send(200, data)

    def model_lookup(self, path):
        """models.get, models.list and the Vertex publisher model; False when the path is none of them."""
        get, listing = MODEL_GET_PATH.match(path), MODEL_LIST_PATH.match(path)
        publisher = PUBLISHER_MODEL_PATH.match(path)
        publisher_list = PUBLISHER_LIST_PATH.match(path)
        listing = listing or publisher_list
        if not (get or listing or publisher):
            return False
        state, args = self.server.state, self.server.state.args
        entry = {"ts_ms": round(time.time() * 1000, 3), "method": "GET", "path": path}
        with state.lock:
            state.lookups.append(entry)
        try:
            self.authenticate(publisher is not None or publisher_list is not None)
            if listing:
                known = sorted(args.models) if args.models else DEFAULT_LISTED
                query = parse_qs(urlsplit(self.path).query)
                size = max(1, min(1000, int((query.get("pageSize") or ["50"])[0])))
                start = int((query.get("pageToken") or ["0"])[0] or 0)
                page = known[start:start + size]
                body = {"publisherModels": [{"name": "publishers/google/models/" + m, "versionId": "001",
                                             "openSourceCategory": "PROPRIETARY", "launchStage": "GA"}
                                            for m in page]} if publisher_list else \
                    {"models": [model_resource(m) for m in page]}
                if start + size < len(known):
                    body["nextPageToken"] = str(start + size)
                status = 200
            else:
                model = (get or publisher).group(2)
                if args.models and model not in args.models:
                    if publisher:
                        raise ApiError(404, "NOT_FOUND", f"Publisher Model `publishers/google/models/{model}` "
                                       "is not found.")
                    raise ApiError(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta, or "
                                   "is not supported for GetModel. Call ListModels to see the list of available "
                                   "models and their supported methods.")
                body = model_resource(model) if get else {
                    "name": f"publishers/google/models/{model}", "versionId": "001",
                    "openSourceCategory": "PROPRIETARY", "launchStage": "GA"}
                status = 200
            self.send(status, body)
        except ApiError as e:
            status = e.code
            self.send(e.code, e.body(), headers=e.headers)
        with state.lock:
            entry["status"] = status
        return True

    def do_POST(self):
        path = urlsplit(self.path).path
        raw = self.read_body()
        if path.startswith("/_fake/"):
            return self.control(path, raw)
        gemini, vertex = GEMINI_PATH.match(path), VERTEX_PATH.match(path)
        if not gemini and not vertex:
            if (self.server.state.vertex_batch.route(self, "POST", raw) or
                    self.server.state.batch.route(self, "POST", raw)):
                return
            return self.not_found()
        model = gemini.group(2) if gemini else vertex.group(4)
        self.generate(path, model, raw, vertex is not None)

    def do_DELETE(self):
        raw = self.read_body()
        if not (self.server.state.vertex_batch.route(self, "DELETE", raw) or
                self.server.state.batch.route(self, "DELETE", raw)):
            self.not_found()

    def control(self, path, raw):
        state = self.server.state
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self.send(400, {"error": "the body must be a JSON object"})
        if path == "/_fake/reset":
            with state.lock:
                state.reset(body.get("seed", state.args.seed))
            with state.batch.store.lock:
                state.batch.store.reset()
            with state.vertex_batch.lock:
                state.vertex_batch.reset()
            return self.send(200, {"ok": True})
        if state.batch.control(self, path, body) or state.vertex_batch.control(self, path, body):
            return None
        if path != "/_fake/faults":
            return self.not_found()
        rules = body.get("rules", [])
        for rule in rules if isinstance(rules, list) else [None]:
            try:
                ok = rule["fault"] in FAULTS and ("rate" in rule or "first_n" in rule)
                float(rule.get("rate", 0)), int(rule.get("first_n", 0)), int(rule.get("latency_ms", 0))
            except (TypeError, KeyError, ValueError, AttributeError):
                ok = False
            if not ok:
                return self.send(400, {"error": f"bad rule {rule}: needs fault (one of {sorted(FAULTS)}) "
                                                f"and a numeric rate and/or first_n"})
        with state.lock:
            if "seed" in body:
                state.rng = random.Random(body["seed"])
            state.rules = [dict(r, remaining=int(r.get("first_n", 0))) for r in rules]
        self.send(200, {"ok": True, "rules": len(rules)})

    def generate(self, path, model, raw, vertex):
        state, args = self.server.state, self.server.state.args
        entry = {"ts_ms": round(time.time() * 1000, 3), "api": "vertex" if vertex else "gemini",
                 "path": path, "model": model, "prompt": None, "images": 0, "image_sha256": [],
                 "status": 0, "fault": None, "end_ms": None, "bearer": None, "usage": None}
        if vertex:  # which access token the request carried (tests match it to the issuer's list)
            auth = self.headers.get("Authorization", "")
            entry["bearer"] = auth[7:].strip() if auth.startswith("Bearer ") else None
        with state.lock:
            state.requests += 1
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            state.log.append(entry)
        status = 0
        try:
            status = self.answer(model, raw, vertex, entry)
        except ApiError as e:
            status = e.code
            self.send(e.code, e.body(), headers=e.headers)
        finally:
            with state.lock:
                entry.update(status=status, end_ms=round(time.time() * 1000, 3))
                state.in_flight -= 1
                key = str(entry["status"])
                state.by_status[key] = state.by_status.get(key, 0) + 1
                if entry["fault"]:
                    state.by_fault[entry["fault"]] = state.by_fault.get(entry["fault"], 0) + 1
            if args.verbose:
                sys.stderr.write(f"gemini_fake: {entry['status']} {entry['fault'] or ''} {path}\n")

    def authenticate(self, vertex):
        args = self.server.state.args
        if vertex:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                raise ApiError(401, "UNAUTHENTICATED", "Request is missing required authentication credential. "
                               "Expected OAuth 2 access token, login cookie or other valid authentication "
                               "credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                               [error_info("CREDENTIALS_MISSING", "aiplatform.googleapis.com")])
            if args.bearer and auth[7:].strip() not in args.bearer:
                raise ApiError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. "
                               "Expected OAuth 2 access token, login cookie or other valid authentication "
                               "credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                               [error_info("ACCESS_TOKEN_TYPE_UNSUPPORTED", "aiplatform.googleapis.com")])
            return
        key = self.headers.get("x-goog-api-key") or parse_qs(urlsplit(self.path).query).get("key", [""])[0]
        if not key:
            raise ApiError(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without "
                           "established identity). Please use API Key or other form of API consumer identity "
                           "to call this API.")
        if args.api_key and key != args.api_key:
            raise ApiError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                           [error_info("API_KEY_INVALID", "generativelanguage.googleapis.com"),
                            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
                             "message": "API key not valid. Please pass a valid API key."}])

    def answer(self, model, raw, vertex, entry):
        args, state = self.server.state.args, self.server.state
        self.authenticate(vertex)
        if args.models and model not in args.models:
            raise ApiError(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta, or is not "
                           "supported for generateContent. Call ListModels to see the list of available models "
                           "and their supported methods.")
        if len(raw) > MAX_REQUEST_BYTES:
            raise bad_request(f"Request payload size exceeds the limit: {MAX_REQUEST_BYTES} bytes.")
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad_request("Invalid JSON payload received. Unexpected token.")
        prompt, images, config = validate(body, model, vertex)
        tier = get(body, "serviceTier")
        if tier is not None and tier not in SERVICE_TIERS:
            raise bad_request(f"Invalid value at 'service_tier', \"{tier}\"", "service_tier")
        tier = tier or "standard"
        state.note(entry, generation_config=get(body, "generationConfig"), service_tier=tier)
        with state.lock:
            state.by_tier[tier] = state.by_tier.get(tier, 0) + 1
        fault, delay, retry_after, latency = state.choose_fault(prompt)
        state.note(entry, prompt=prompt, images=len(images), fault=fault,
                   image_sha256=[hashlib.sha256(i).hexdigest() for i in images])
        extra = LATENCY_MARKER.search(prompt)
        # Refusals (429, 400, 403) come back at once, as Google's do; everything else takes the latency.
        base = 0 if fault in ("400", "403", "429") or fault in QUOTA_FAULTS else args.latency_ms
        wait_ms = base + latency + (int(extra.group(1)) if extra else 0)
        if fault in EDGE_FAULTS:
            return send_huge(self, fault)
        if fault == "hang":
            time.sleep(args.hang_seconds)
            self.close_connection = True
            return 0
        remaining = entry["ts_ms"] / 1000.0 + wait_ms / 1000.0 - time.time()
        if remaining > 0:  # latency counts from arrival, so parsing does not add to it
            time.sleep(remaining)
        if fault in QUOTA_FAULTS:
            error = quota_error(fault, model, vertex, delay)
            if error is not None:
                raise error
            fault = "429"
        if fault in ("400", "403", "429", "500", "503", "504"):
            if fault == "429":
                delay = delay or (None if vertex else args.retry_delay)
                if retry_after is None and args.retry_after_header:
                    retry_after = delay or args.retry_delay
            raise fault_error(fault, model, vertex, delay, retry_after)
        usage = {"promptTokenCount": len(prompt) // 4 + TOKENS_PER_IMAGE_IN * len(images)}
        version = {"modelVersion": model, "responseId": hashlib.sha256(os.urandom(8)).hexdigest()[:22]}
        if fault == "block-prompt":
            usage["totalTokenCount"] = usage["promptTokenCount"]
            state.note(entry, usage=dict(usage))
            self.send(200, {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": usage, **version})
            return 200
        if fault in ("image-safety", "image-prohibited", "no-image"):
            reason = {"image-safety": "IMAGE_SAFETY", "image-prohibited": "IMAGE_PROHIBITED_CONTENT",
                      "no-image": "NO_IMAGE"}[fault]
            # The model thought before it was stopped: Google bills those tokens too (a captured
            # IMAGE_PROHIBITED_CONTENT answer reports thoughtsTokenCount 240 beside its prompt).
            lie = THOUGHTS_MARKER.search(prompt)
            usage["thoughtsTokenCount"] = int(lie.group(1)) if lie else thoughts_tokens(
                args, config.get("max_output_tokens"), 0, BLOCKED_THOUGHTS_TOKENS)
            usage["totalTokenCount"] = usage["promptTokenCount"] + usage["thoughtsTokenCount"]
            candidate = {"content": {"role": "model"}, "finishReason": reason, "index": 0,
                         "finishMessage": "The model output could not be generated. Support code: 12345678."}
            state.note(entry, usage=dict(usage))
            self.send(200, {"candidates": [candidate], "usageMetadata": usage, **version})
            return 200
        self.send_image(prompt, model, config, usage, version, fault, entry)
        return 200

    def send_image(self, prompt, model, config, usage, version, fault, entry=None):
        args = self.server.state.args
        out_tokens = image_tokens_out(model, config.get("size"))
        digest = hashlib.sha256((model + "\0" + prompt).encode("utf-8", "replace")).digest()
        width, height = dimensions(config["ratio"], model, config.get("size"), fault)
        image = base64.b64encode(png(width, height, digest, args.png_bytes)).decode()
        if fault in CORRUPT_IMAGE_FAULTS:
            image = base64.b64encode(corrupt_image_bytes(digest)).decode()
        parts = []
        thoughts = "[thoughts]" in prompt or (args.thought_rate > 0 and
                                              random.Random(digest).random() < args.thought_rate)
        if thoughts:
            draft = base64.b64encode(png(width, height, digest[::-1])).decode()
            parts += [{"text": "Planning the composition.", "thought": True},
                      {"inlineData": {"mimeType": "image/png", "data": draft}, "thought": True}]
            usage["thoughtsTokenCount"] = 180
        if args.thoughts_tokens is not None or thoughts:
            usage["thoughtsTokenCount"] = thoughts_tokens(args, config.get("max_output_tokens"),
                                                          out_tokens, 180)
        lie = THOUGHTS_MARKER.search(prompt)  # this answer alone bills past its cap
        if lie:
            usage["thoughtsTokenCount"] = int(lie.group(1))
        if "TEXT" in config["modalities"] or fault == "text-only":
            parts.append({"text": "Here is the image you asked for."})
        if fault != "text-only":
            parts.append({"inlineData": {"mimeType": "image/png", "data": image}})
        if thoughts:
            for part in parts:
                if not part.get("thought"):
                    part["thoughtSignature"] = base64.b64encode(digest[:12]).decode()
        usage["candidatesTokenCount"] = out_tokens if fault != "text-only" else 8
        usage["totalTokenCount"] = (usage["promptTokenCount"] + usage["candidatesTokenCount"] +
                                    usage.get("thoughtsTokenCount", 0))
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": len(prompt) // 4}]
        usage["candidatesTokensDetails"] = [{"modality": "IMAGE", "tokenCount": out_tokens}]
        lie_about_usage(prompt, usage)
        if entry is not None:
            self.server.state.note(entry, usage=dict(usage))
        body = {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP",
                                "index": 0}], "usageMetadata": usage, **version}
        data = json.dumps(body).encode()
        if fault == "malformed":  # a complete HTTP answer whose JSON stops midway
            return self.send(200, data[: len(data) // 2])
        if fault == "truncate":  # the connection closes before Content-Length bytes arrived
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        return self.send(200, data)


def image_answer(args, prompt, model, config, n_images, fault=None):
    """A 200 GenerateContentResponse as a dict (the Batch API's result lines): an image with
    usageMetadata as send_image makes it, or a refusal for the finishReason faults."""
    usage = {"promptTokenCount": len(prompt) // 4 + TOKENS_PER_IMAGE_IN * n_images}
    version = {"modelVersion": model, "responseId": hashlib.sha256(os.urandom(8)).hexdigest()[:22]}
    if fault in ("image-safety", "image-prohibited", "no-image"):
        reason = {"image-safety": "IMAGE_SAFETY", "image-prohibited": "IMAGE_PROHIBITED_CONTENT",
                  "no-image": "NO_IMAGE"}[fault]
        usage["thoughtsTokenCount"] = BLOCKED_THOUGHTS_TOKENS
        usage["totalTokenCount"] = usage["promptTokenCount"] + usage["thoughtsTokenCount"]
        return {"candidates": [{"content": {"role": "model"}, "finishReason": reason, "index": 0}],
                "usageMetadata": usage, **version}
    out_tokens = image_tokens_out(model, config.get("size"))
    digest = hashlib.sha256((model + "\0" + prompt).encode("utf-8", "replace")).digest()
    width, height = dimensions(config["ratio"], model, config.get("size"), fault)
    image = png(width, height, digest, args.png_bytes)
    if fault in CORRUPT_IMAGE_FAULTS:
        image = corrupt_image_bytes(digest)
    parts = [{"inlineData": {"mimeType": "image/png", "data": base64.b64encode(image).decode()}}]
    if "TEXT" in config["modalities"]:
        parts.insert(0, {"text": "Here is the image you asked for."})
    usage["candidatesTokenCount"] = out_tokens
    usage["totalTokenCount"] = usage["promptTokenCount"] + out_tokens
    usage["candidatesTokensDetails"] = [{"modality": "IMAGE", "tokenCount": out_tokens}]
    lie_about_usage(prompt, usage)
    return {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage, **version}


def error_info(reason, service):
    return {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com",
            "metadata": {"service": service}}


def fault_error(fault, model, vertex, delay, retry_after):
    headers = {}
    if retry_after is not None:  # delta-seconds are whole seconds (RFC 9110 §10.2.3): round up
        headers["Retry-After"] = str(math.ceil(float(str(retry_after).rstrip("s"))))
    if fault == "429":
        details = []
        if vertex:
            message = "Resource exhausted, please try again later."
        else:
            metric = "generativelanguage.googleapis.com/generate_content_paid_tier_requests"
            message = ("You exceeded your current quota, please check your plan and billing details. For more "
                       "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n"
                       f"* Quota exceeded for metric: {metric}, limit: 10, model: {model}\n"
                       + (f"Please retry in {delay}." if delay else ""))
            details = [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                           {"quotaMetric": metric, "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                            "quotaDimensions": {"location": "global", "model": model}, "quotaValue": "10"}]},
                       {"@type": "type.googleapis.com/google.rpc.Help", "links": [
                           {"description": "Learn more about Gemini API quotas",
                            "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]}]
        if delay:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay})
        return ApiError(429, "RESOURCE_EXHAUSTED", message, details, headers)
    code, status, message = {
        "400": (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
        "403": (403, "PERMISSION_DENIED", "The caller does not have permission"),
        "500": (500, "INTERNAL", "An internal error has occurred. Please retry or report in "
                                 "https://developers.generativeai.google/guide/troubleshooting"),
        "503": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        "504": (504, "DEADLINE_EXCEEDED", "The request timed out. Please try again."),
    }[fault]
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}] if delay else []
    return ApiError(code, status, message, details, headers)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up (a timeout in a test); nothing to report
        super().handle_error(request, client_address)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--port-file", help="the chosen port is written here once the server listens")
    p.add_argument("--api-key", default="", help="the only accepted key (default: any non-empty key)")
    p.add_argument("--bearer", action="append", default=[], help="an accepted Vertex token (repeatable; "
                                                                  "default: any non-empty token)")
    p.add_argument("--models", type=lambda s: set(s.split(",")), default=set(),
                   help="comma-separated known models (default: any)")
    p.add_argument("--latency-ms", type=int, default=0, help="added to every generateContent answer")
    p.add_argument("--png-bytes", type=int, default=0, help="pad each PNG to at least this size")
    p.add_argument("--hang-seconds", type=float, default=30.0, help="how long [fault:hang] waits")
    p.add_argument("--huge-bytes", type=int, default=40 << 20, help="size of a [fault:huge] answer")
    p.add_argument("--retry-delay", default="1s", help="RetryInfo.retryDelay of a Gemini 429 without one")
    p.add_argument("--retry-after-header", action="store_true", help="also send Retry-After on 429")
    p.add_argument("--thought-rate", type=float, default=0.0, help="share of answers with thought parts")
    p.add_argument("--seed", type=int, default=1, help="seed of the fault RNG")
    p.add_argument("--thoughts-tokens", type=int, default=None,
                   help="thoughtsTokenCount of every image answer, even past maxOutputTokens (a server "
                        "that bills past the cap)")
    p.add_argument("--batch-schedule", type=lambda s: s.split(","), default=gemini_batch_fake.DEFAULT_SCHEDULE,
                   help="states a batch passes through, one per batches.get poll (default "
                        "PENDING,RUNNING,SUCCEEDED)")
    p.add_argument("--upload-granularity", type=int, default=8 << 20,
                   help="X-Goog-Upload-Chunk-Granularity of resumable uploads (default 8 MiB)")
    p.add_argument("--public-base", default="", help="base URL written into upload URLs (default: Host)")
    p.add_argument("--gcs-base", default="", help="the GCS fake Vertex batch jobs read and write "
                                                  "(http://host:port; also POST /_fake/vertex-batch)")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)

    sys.setswitchinterval(0.0005)  # many threads wake from sleep at once; hand the GIL over quickly
    server = Server((args.host, args.port), Handler)
    server.state = State(args)
    server.state.batch = gemini_batch_fake.BatchApi(sys.modules[__name__], gemini_batch_fake.BatchStore(args))
    server.state.vertex_batch = vertex_batch_fake.VertexBatchApi(sys.modules[__name__], args)
    try:
        fake_common.serve(server, "gemini_fake", args.host, args.port_file)
    finally:
        server.state.batch.store.close()
        server.state.vertex_batch.close()


if __name__ == "__main__":
    main()
