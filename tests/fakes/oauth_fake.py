#!/usr/bin/env python3
"""A loopback fake of Google's OAuth 2.0 token endpoint (JWT-bearer grant) and of the GCE metadata
server's token endpoint, in one process.

How this works: one ThreadingHTTPServer answers
  POST /token   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT>
                (what a service-account key's token_uri points at). The JWT is checked the way
                Google's endpoint does: header alg RS256, the signature verified with the key's
                public half (by `openssl dgst -sha256 -verify`: the standard library has no RSA),
                aud == this endpoint's own URL, iss, scope, exp - iat == 3600, iat close to now.
  GET  /computeMetadata/v1/instance/service-accounts/default/token   (needs Metadata-Flavor: Google)
  GET  /computeMetadata/v1/instance/service-accounts/default/email
  GET  /computeMetadata/v1/project/project-id
  POST /v1/projects/-/serviceAccounts/{email}:signBlob   (IAM Service Account Credentials API)
                {"payload": base64} with a bearer token this fake issued and that has not expired;
                the payload is signed RSA-SHA256 with --signing-key (by `openssl dgst -sha256 -sign`)
                and answered {"keyId", "signedBlob": base64}, as iamcredentials.googleapis.com does.
Tokens are "<prefix>-<n>" with one counter for both endpoints, so every token is unique and tests
can tell which request carried which token. GET /_fake/stats and GET /_fake/log report what was
issued (and when it expires) and what was refused. Python 3 standard library only.
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import parse_qs, unquote, urlsplit

import fake_common  # noqa: E402 (beside this file)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
METADATA_PREFIX = "/computeMetadata/v1/"
TOKEN_PATH = METADATA_PREFIX + "instance/service-accounts/default/token"
EMAIL_PATH = METADATA_PREFIX + "instance/service-accounts/default/email"
PROJECT_PATH = METADATA_PREFIX + "project/project-id"
SIGN_BLOB_PREFIX, SIGN_BLOB_SUFFIX = "/v1/projects/-/serviceAccounts/", ":signBlob"
DEFAULT_EMAIL = "default@fake-project.iam.gserviceaccount.com"
JWT_LIFETIME = 3600  # Google accepts assertions of at most one hour; clients use exactly that


class Refusal(Exception):
    """An OAuth error answer: {"error": code, "error_description": description}."""

    def __init__(self, status, code, description):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_rs256(public_key, signing_input, signature):
    """True when openssl accepts the SHA-256 RSA signature over signing_input."""
    with tempfile.TemporaryDirectory(prefix="oauth-fake-") as d:
        data_path, sig_path = os.path.join(d, "data.txt"), os.path.join(d, "sig.bin")
        with open(data_path, "wb") as f:
            f.write(signing_input)
        with open(sig_path, "wb") as f:
            f.write(signature)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", public_key, "-signature", sig_path,
                            data_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return r.returncode == 0 and b"Verified OK" in r.stdout


def sign_rs256(private_key, data):
    """The raw RSA-SHA256 (PKCS#1 v1.5) signature of data by the PEM key, made by openssl."""
    r = subprocess.run(["openssl", "dgst", "-sha256", "-sign", private_key], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return r.stdout


def rpc_error(status, code, message):
    """A google.rpc.Status error body, as Google's JSON APIs answer."""
    return {"error": {"code": status, "message": message, "status": code}}


class State:
    def __init__(self, args):
        self.args, self.lock = args, threading.Lock()
        self.reset()

    def reset(self):
        self.counter = 0
        self.log = []
        self.stats = {"token_requests": 0, "tokens_issued": 0, "assertions_verified": 0, "refused": 0,
                      "metadata_requests": 0, "metadata_tokens": 0, "metadata_refused": 0,
                      "sign_requests": 0, "blobs_signed": 0, "sign_refused": 0}
        self.sign_faults_left = self.args.sign_fail_first
        self.tokens = []  # {"token","source","issued_ms","expires_ms"}

    def issue(self, source):
        with self.lock:
            self.counter += 1
            now = time.time() * 1000
            token = f"{self.args.issue_token}-{self.counter}"
            self.tokens.append({"token": token, "source": source, "issued_ms": round(now, 3),
                                "expires_ms": round(now + self.args.token_ttl * 1000, 3)})
            if source == "token":
                self.stats["tokens_issued"] += 1
            else:
                self.stats["metadata_tokens"] += 1
            return token

    def token_valid(self, token):
        """True when this fake issued token and it has not expired."""
        now = time.time() * 1000
        with self.lock:
            return any(t["token"] == token and t["expires_ms"] > now for t in self.tokens)

    def take_sign_fault(self):
        with self.lock:
            if self.sign_faults_left > 0:
                self.sign_faults_left -= 1
                return True
            return False

    def record(self, entry, **counters):
        with self.lock:
            self.log.append(entry)
            for k, v in counters.items():
                self.stats[k] += v


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("oauth_fake: " + (fmt % args) + "\n")

    def send(self, status, body, content_type="application/json; charset=utf-8", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def own_url(self, path):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    # ---- GET: metadata server and control API ----
    def do_GET(self):
        state, path = self.server.state, urlsplit(self.path).path
        if path == "/_fake/stats":
            with state.lock:
                body = dict(state.stats, tokens=list(state.tokens))
            return self.send(200, body)
        if path == "/_fake/log":
            with state.lock:
                body = list(state.log)
            return self.send(200, body)
        if path == "/" or path.startswith(METADATA_PREFIX):
            return self.metadata(path)
        self.send(404, {"error": "not_found", "error_description": f"no such path {path}"})

    def metadata(self, path):
        state, args = self.server.state, self.server.state.args
        entry = {"ts_ms": round(time.time() * 1000, 3), "endpoint": "metadata", "path": path,
                 "flavor": self.headers.get("Metadata-Flavor")}
        headers = {"Metadata-Flavor": "Google", "Server": "Metadata Server for VM"}
        # The real server refuses requests without the header (and proxied ones) with 403.
        if self.headers.get("Metadata-Flavor") != "Google" or self.headers.get("X-Forwarded-For"):
            entry.update(status=403, reason="missing Metadata-Flavor: Google")
            state.record(entry, metadata_requests=1, metadata_refused=1)
            return self.send(403, b"Missing required header \"Metadata-Flavor\": \"Google\"\n",
                             "text/html; charset=UTF-8", headers)
        if path == TOKEN_PATH:
            token = state.issue("metadata")
            entry.update(status=200, token=token)
            state.record(entry, metadata_requests=1)
            return self.send(200, {"access_token": token, "expires_in": args.token_ttl, "token_type": "Bearer"},
                             headers=headers)
        text = {EMAIL_PATH: args.client_email or DEFAULT_EMAIL,
                PROJECT_PATH: args.project, "/": ""}.get(path)
        entry.update(status=200 if text is not None else 404)
        state.record(entry, metadata_requests=1)
        if text is None:
            return self.send(404, b"Not Found\n", "text/html; charset=UTF-8", headers)
        return self.send(200, text.encode(), "application/text", headers)

    # ---- POST: token endpoint and control API ----
    def do_POST(self):
        state, path = self.server.state, urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path == "/_fake/reset":
            with state.lock:
                state.reset()
            return self.send(200, {"ok": True})
        if path.startswith(SIGN_BLOB_PREFIX) and path.endswith(SIGN_BLOB_SUFFIX):
            return self.sign_blob(unquote(path[len(SIGN_BLOB_PREFIX):-len(SIGN_BLOB_SUFFIX)]), raw)
        if path != state.args.token_path:
            return self.send(404, {"error": "not_found", "error_description": f"no such path {path}"})
        entry = {"ts_ms": round(time.time() * 1000, 3), "endpoint": "token", "path": path}
        try:
            claims = self.check_grant(raw)
        except Refusal as r:
            entry.update(status=r.status, reason=r.description)
            state.record(entry, token_requests=1, refused=1)
            if state.args.verbose:
                sys.stderr.write(f"oauth_fake: refused: {r.description}\n")
            return self.send(r.status, {"error": r.code, "error_description": r.description})
        token = state.issue("token")
        entry.update(status=200, token=token, claims=claims)
        state.record(entry, token_requests=1, assertions_verified=1)
        self.send(200, {"access_token": token, "expires_in": state.args.token_ttl, "token_type": "Bearer"})

    def sign_blob(self, email, raw):
        """IAM Credentials signBlob: {"payload": base64} -> {"keyId", "signedBlob": base64}."""
        state, args = self.server.state, self.server.state.args
        auth = self.headers.get("Authorization", "")
        bearer = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        entry = {"ts_ms": round(time.time() * 1000, 3), "endpoint": "signBlob", "path": self.path,
                 "email": email, "bearer": bearer}

        def refuse(status, code, message):
            entry.update(status=status, reason=message)
            state.record(entry, sign_requests=1, sign_refused=1)
            return self.send(status, rpc_error(status, code, message))

        if not args.signing_key:
            return refuse(404, "NOT_FOUND", "signBlob is off: start the fake with --signing-key")
        if bearer is None:
            return refuse(401, "UNAUTHENTICATED", "Request is missing required authentication credential.")
        if not state.token_valid(bearer):
            return refuse(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if email != (args.client_email or DEFAULT_EMAIL):
            return refuse(403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.signBlob' denied on resource "
                                                   "(or it may not exist).")
        if state.take_sign_fault():
            return refuse(503, "UNAVAILABLE", "The service is currently unavailable.")
        try:
            body = json.loads(raw)
            payload = base64.b64decode(body["payload"], validate=True)
        except (ValueError, KeyError, TypeError):
            return refuse(400, "INVALID_ARGUMENT", "Invalid value at 'payload' (TYPE_BYTES), Base64 decoding failed.")
        signature = sign_rs256(args.signing_key, payload)
        entry.update(status=200, payload_sha256=hashlib.sha256(payload).hexdigest())
        state.record(entry, sign_requests=1, blobs_signed=1)
        self.send(200, {"keyId": args.key_id or "fake-key-1", "signedBlob": base64.b64encode(signature).decode()})

    def check_grant(self, raw):
        """The JWT's claims when the grant is acceptable; raises Refusal otherwise."""
        args = self.server.state.args
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            raise Refusal(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        grant = form.get("grant_type", [""])[0]
        if grant != JWT_BEARER:
            raise Refusal(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
        assertion = form.get("assertion", [""])[0]
        pieces = assertion.split(".")
        if len(pieces) != 3:
            raise Refusal(400, "invalid_grant", "Invalid JWT: not three dot-separated parts")
        try:
            header = json.loads(b64url_decode(pieces[0]))
            claims = json.loads(b64url_decode(pieces[1]))
            signature = b64url_decode(pieces[2])
        except (ValueError, TypeError):
            raise Refusal(400, "invalid_grant", "Invalid JWT: a part is not base64url JSON")
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise Refusal(400, "invalid_grant", "Invalid JWT: header and claims must be objects")
        if header.get("alg") != "RS256":
            raise Refusal(400, "invalid_grant", f"Invalid JWT: alg {header.get('alg')!r} is not RS256")
        if args.key_id and header.get("kid") != args.key_id:
            raise Refusal(400, "invalid_grant", f"Invalid JWT: kid {header.get('kid')!r} is not the key's id")
        if args.public_key and not verify_rs256(args.public_key, (pieces[0] + "." + pieces[1]).encode(),
                                                signature):
            raise Refusal(400, "invalid_grant", "Invalid JWT Signature.")
        own = self.own_url(args.token_path)
        if claims.get("aud") != own:
            raise Refusal(400, "invalid_grant", f"Invalid JWT: Failed audience check. The right audience is {own}")
        iss = claims.get("iss")
        if not isinstance(iss, str) or not iss or (args.client_email and iss != args.client_email):
            raise Refusal(400, "invalid_grant", f"Invalid JWT: iss {iss!r} is not the service account")
        scope = claims.get("scope")
        if not isinstance(scope, str) or not scope.split():
            raise Refusal(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        if args.scope and args.scope not in scope.split():
            raise Refusal(400, "invalid_scope", f"scope {scope!r} does not include {args.scope}")
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat != JWT_LIFETIME or \
                abs(iat - time.time()) > args.max_skew:
            raise Refusal(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and "
                                                "in a reasonable timeframe. Check your iat and exp values in the "
                                                "JWT claim.")
        return claims


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--port-file", help="the chosen port is written here once the server listens")
    p.add_argument("--public-key", help="PEM public key that verifies assertions (default: no signature check)")
    p.add_argument("--token-ttl", type=int, default=3600, help="expires_in of issued tokens, seconds")
    p.add_argument("--issue-token", default="ya29.fake", help="issued tokens are <this>-<n>")
    p.add_argument("--token-path", default="/token", help="path of the token endpoint")
    p.add_argument("--client-email", default="", help="the only accepted iss (default: any non-empty)")
    p.add_argument("--key-id", default="", help="the only accepted JWT kid (default: not checked)")
    p.add_argument("--scope", default="", help="a scope the assertion must include (default: any)")
    p.add_argument("--project", default="fake-project", help="metadata project/project-id")
    p.add_argument("--max-skew", type=int, default=300, help="how far iat may be from now, seconds")
    p.add_argument("--signing-key", help="PEM private key that signBlob signs with (default: signBlob is off)")
    p.add_argument("--sign-fail-first", type=int, default=0, help="answer the first N signBlob requests 503")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)

    server = Server((args.host, args.port), Handler)
    server.state = State(args)
    fake_common.serve(server, "oauth_fake", args.host, args.port_file)


if __name__ == "__main__":
    main()
