#!/usr/bin/env python3
"""Self-test of oauth_fake.py: makes a fresh RSA key with openssl, starts the fake on a free loopback
port with its public half, and checks that it issues tokens for good assertions and refuses each
kind of bad one (signature, aud, iss, scope, lifetime, grant type), and that its metadata endpoint
wants Metadata-Flavor: Google. Exit status 0 when all checks pass. Python 3 standard library and
the openssl command (to sign)."""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
EMAIL, KID, SCOPE = "selftest@p.iam.gserviceaccount.com", "kid-1", "https://www.googleapis.com/auth/cloud-platform"
FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(key, claims, header=None):
    head = b64url(json.dumps(header or {"alg": "RS256", "typ": "JWT", "kid": KID}).encode())
    body = b64url(json.dumps(claims).encode())
    signing_input = (head + "." + body).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input,
                         stdout=subprocess.PIPE, check=True).stdout
    return head + "." + body + "." + b64url(sig)


def call(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def main():
    d = tempfile.mkdtemp(prefix="oauth-fake-selftest-")
    key, other, pub = (os.path.join(d, n) for n in ("key.pem", "other.pem", "pub.pem"))
    for k in (key, other):
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", k],
                       check=True, stderr=subprocess.DEVNULL)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    port_file = os.path.join(d, "port")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "oauth_fake.py"), "--port", "0", "--port-file",
                             port_file, "--public-key", pub, "--token-ttl", "120", "--issue-token", "tok",
                             "--client-email", EMAIL, "--key-id", KID, "--scope", SCOPE],
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit("oauth_fake did not start")
            time.sleep(0.05)
        base = "http://127.0.0.1:%d" % int(open(port_file).read())
        token_url = base + "/token"
        now = int(time.time())
        good = {"iss": EMAIL, "scope": SCOPE, "aud": token_url, "iat": now, "exp": now + 3600}
        form = {"Content-Type": "application/x-www-form-urlencoded"}

        def grant(assertion, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer"):
            body = urllib.parse.urlencode({"grant_type": grant_type, "assertion": assertion}).encode()
            status, _, raw = call(token_url, body, form)
            return status, json.loads(raw)

        status, body = grant(jwt(key, good))
        check(status == 200 and body == {"access_token": "tok-1", "expires_in": 120, "token_type": "Bearer"},
              "a good assertion gets tok-1 with expires_in 120")
        status, body = grant(jwt(key, good))
        check(status == 200 and body["access_token"] == "tok-2", "the next one gets tok-2")
        cases = [
            ("a signature by another key", jwt(other, good), "Invalid JWT Signature."),
            ("a tampered payload", jwt(key, good).split(".")[0] + "." + b64url(json.dumps(dict(good, iss="x@y")).encode())
             + "." + jwt(key, good).split(".")[2], "Invalid JWT Signature."),
            ("another audience", jwt(key, dict(good, aud="https://oauth2.googleapis.com/token")), "audience"),
            ("another issuer", jwt(key, dict(good, iss="someone@else.com")), "iss"),
            ("no scope", jwt(key, dict(good, scope="")), "scope"),
            ("a scope without cloud-platform", jwt(key, dict(good, scope="https://www.googleapis.com/auth/devstorage.read_only")), "scope"),
            ("a two-hour lifetime", jwt(key, dict(good, exp=now + 7200)), "short-lived"),
            ("an iat an hour old", jwt(key, dict(good, iat=now - 3600, exp=now)), "short-lived"),
            ("alg HS256", jwt(key, good, {"alg": "HS256", "typ": "JWT", "kid": KID}), "RS256"),
            ("another kid", jwt(key, good, {"alg": "RS256", "typ": "JWT", "kid": "kid-2"}), "kid"),
            ("not a JWT", "abc", "three"),
        ]
        for what, assertion, words in cases:
            status, body = grant(assertion)
            check(status == 400 and words in body.get("error_description", ""), "refused: " + what)
        status, body = grant(jwt(key, good), "client_credentials")
        check(status == 400 and body["error"] == "unsupported_grant_type", "refused: another grant type")

        path = "/computeMetadata/v1/instance/service-accounts/default/token"
        status, _, _ = call(base + path)
        check(status == 403, "metadata without Metadata-Flavor: 403")
        status, _, _ = call(base + path, headers={"Metadata-Flavor": "Google", "X-Forwarded-For": "1.2.3.4"})
        check(status == 403, "metadata with X-Forwarded-For: 403")
        status, headers, raw = call(base + path, headers={"Metadata-Flavor": "Google"})
        body = json.loads(raw)
        check(status == 200 and body == {"access_token": "tok-3", "expires_in": 120, "token_type": "Bearer"}
              and headers.get("Metadata-Flavor") == "Google", "metadata token tok-3 with Metadata-Flavor: Google")
        status, _, raw = call(base + "/computeMetadata/v1/project/project-id", headers={"Metadata-Flavor": "Google"})
        check(status == 200 and raw == b"fake-project", "metadata project id")

        stats = json.loads(call(base + "/_fake/stats")[2])
        check(stats["tokens_issued"] == 2 and stats["assertions_verified"] == 2 and stats["refused"] == 12
              and stats["metadata_tokens"] == 1 and stats["metadata_refused"] == 2,
              "stats count issued, verified and refused requests")
        t = stats["tokens"][0]
        check(t["token"] == "tok-1" and t["source"] == "token" and abs(t["expires_ms"] - t["issued_ms"] - 120000) < 1,
              "stats list each token with its expiry")
        log = json.loads(call(base + "/_fake/log")[2])
        check(len(log) == 18 and log[0]["claims"]["iss"] == EMAIL, "the log has every request and the accepted claims")
        call(base + "/_fake/reset", b"{}", {"Content-Type": "application/json"})
        status, body = grant(jwt(key, good))
        check(body.get("access_token") == "tok-1", "reset restarts the token counter")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        subprocess.run(["rm", "-rf", d])
    print("\n%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
