#!/usr/bin/env python3
"""Self-test of oauth_fake.py: makes a fresh RSA key with openssl, starts the fake on a free loopback
port with its public half, and checks that it issues tokens for good assertions and refuses each
kind of bad one (signature, aud, iss, scope, lifetime, grant type), that its metadata endpoint
wants Metadata-Flavor: Google, and that signBlob signs with the key for an issued token only. Exit status 0 when all checks pass. Python 3 standard library and
the openssl command (to sign)."""

import base64
import hashlib
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
                             "--client-email", EMAIL, "--key-id", KID, "--scope", SCOPE,
                             "--signing-key", key, "--sign-fail-first", "1"],
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

        # signBlob (IAM Service Account Credentials API), authorised by a token the fake issued.
        sign_url = base + "/v1/projects/-/serviceAccounts/" + EMAIL + ":signBlob"
        payload = b"GOOG4-RSA-SHA256\n20190201T090000Z\nscope\nabc"
        body = json.dumps({"payload": base64.b64encode(payload).decode()}).encode()
        bearer = {"Content-Type": "application/json", "Authorization": "Bearer tok-1"}
        status, _, raw = call(sign_url, body, bearer)
        check(status == 503 and json.loads(raw)["error"]["status"] == "UNAVAILABLE",
              "the first signBlob answers 503 (--sign-fail-first 1)")
        status, _, raw = call(sign_url, body, bearer)
        answer = json.loads(raw) if status == 200 else {}
        signature = base64.b64decode(answer.get("signedBlob", ""))
        expected = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=payload,
                                  stdout=subprocess.PIPE, check=True).stdout
        check(status == 200 and answer.get("keyId") == KID and signature == expected,
              "signBlob answers {keyId, signedBlob}: the key's RSA-SHA256 signature of the payload")
        with tempfile.NamedTemporaryFile() as data, tempfile.NamedTemporaryFile() as sig:
            data.write(payload), data.flush(), sig.write(signature), sig.flush()
            ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", sig.name, data.name],
                                stdout=subprocess.PIPE).stdout
        check(b"Verified OK" in ok, "the public key verifies the signedBlob")
        encoded = base + "/v1/projects/-/serviceAccounts/" + urllib.parse.quote(EMAIL, safe="") + ":signBlob"
        check(call(encoded, body, bearer)[0] == 200, "a percent-encoded email in the path is the same account")
        refusals = [
            ("no bearer token", sign_url, body, {"Content-Type": "application/json"}, 401),
            ("a token the fake never issued", sign_url, body, dict(bearer, Authorization="Bearer ya29.other"), 401),
            ("another account", base + "/v1/projects/-/serviceAccounts/x@p.iam.gserviceaccount.com:signBlob",
             body, bearer, 403),
            ("a payload that is not base64", sign_url, b'{"payload": "***"}', bearer, 400),
        ]
        for what, url, data, headers, want in refusals:
            status, _, raw = call(url, data, headers)
            check(status == want and "error" in json.loads(raw), "signBlob refuses %s with %d" % (what, want))
        stats = json.loads(call(base + "/_fake/stats")[2])
        check(stats["sign_requests"] == 7 and stats["blobs_signed"] == 2 and stats["sign_refused"] == 5,
              "stats count signBlob requests, signatures and refusals")
        log = [e for e in json.loads(call(base + "/_fake/log")[2]) if e["endpoint"] == "signBlob"]
        check(log[1]["bearer"] == "tok-1" and log[1]["email"] == EMAIL and
              log[1]["payload_sha256"] == hashlib.sha256(payload).hexdigest(),
              "the log has each signBlob request with its bearer, account and payload hash")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        subprocess.run(["rm", "-rf", d])
    print("\n%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
