#!/usr/bin/env python3
"""The IAM grants of samples/cloud/setup.sh and the "Who needs which role" table of
samples/cloud/README.md say the same: every `grant WHO ROLE ON "WHY"` line of the script is a
row `| who | `role` | on | why |` of the table and the other way round, and `setup.sh --dry-run`
prints one gcloud add-iam-policy-binding command for each grant that applies (API key or
--vertex), plus every create and enable; run against a recording gcloud, a second run creates
nothing. Exit 0 when they agree, 1 with the differences."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "samples/cloud/setup.sh")
README = os.path.join(ROOT, "samples/cloud/README.md")
WHO = {"build": "build service account", "runner": "runner service account", "sheet": "sheet user",
       "deployer": "deployer"}
ON = {"bucket": "the bucket", "repository": "the Docker repository", "project": "the project",
      "secret": "the API key secret", "self": "itself", "runner-account": "the runner service account",
      "build-account": "the build service account"}
failures = []

script = open(SCRIPT, encoding="utf-8").read()
grants = re.findall(r'(?m)^\s*grant (\w+) (roles/[\w.]+) ([\w-]+) "([^"]*)"\s*$', script)
if len(grants) < 10:
    failures.append(f"setup.sh: only {len(grants)} grant lines found")
from_script = set()
for who, role, on, why in grants:
    if who not in WHO or on not in ON:
        failures.append(f"setup.sh: grant {who} {role} {on}: unknown who or on")
        continue
    from_script.add((WHO[who], role, ON[on], why))

readme = open(README, encoding="utf-8").read()
section = readme.split("## Who needs which role", 1)[-1].split("\n## ", 1)[0]
from_readme = set()
for line in section.splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 4 and cells[1].startswith("`roles/"):
        from_readme.add((cells[0], cells[1].strip("`"), cells[2], cells[3]))
for row in sorted(from_script - from_readme):
    failures.append(f"README.md lacks the row | {row[0]} | `{row[1]}` | {row[2]} | {row[3]} | that setup.sh grants")
for row in sorted(from_readme - from_script):
    failures.append(f"README.md has | {row[0]} | `{row[1]}` | {row[2]} | {row[3]} | which setup.sh does not grant")
for banned in ["roles/storage.objectAdmin", "roles/run.invoker", "roles/owner", "roles/editor"]:
    if banned in {r for _, r, _, _ in grants}:
        failures.append(f"setup.sh grants {banned}: more than needed")

# --dry-run prints every command, changing nothing (no gcloud needs to be installed).
for extra, vertex in [([], False), (["--vertex"], True)]:
    r = subprocess.run(["bash", SCRIPT, "--project", "p-1", "--dry-run", "--sheet-user", "ana@example.com",
                        "--deployer", "user:ops@example.com"] + extra, capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin"})
    if r.returncode != 0:
        failures.append(f"setup.sh --dry-run {extra} exited {r.returncode}: {r.stderr.strip()}")
        continue
    out = r.stdout.splitlines()
    bindings = [l for l in out if "add-iam-policy-binding" in l]
    want = [g for g in grants if not (vertex and g[1] == "roles/secretmanager.secretAccessor")
            and not (not vertex and g[1] == "roles/aiplatform.user")]
    if len(bindings) != len(want):
        failures.append(f"setup.sh --dry-run {extra}: {len(bindings)} bindings printed, {len(want)} grants expected")
    for who, role, on, _ in want:
        if not any(f"--role={role}" in l for l in bindings):
            failures.append(f"setup.sh --dry-run {extra}: no binding of {role} printed")
    for needle in ["gcloud services enable", "iamcredentials.googleapis.com", "gcloud storage buckets create",
                   "gcloud artifacts repositories create", "service-accounts create assetgen-builder",
                   "service-accounts create assetgen-runner"]:
        if not any(needle in l for l in out):
            failures.append(f"setup.sh --dry-run {extra}: no `{needle}` printed")
    if vertex != any("aiplatform.googleapis.com" in l for l in out):
        failures.append(f"setup.sh --dry-run {extra}: aiplatform.googleapis.com enabled {'without' if not vertex else 'only with'} --vertex")
    if vertex == any("gcloud secrets create" in l for l in out):
        failures.append(f"setup.sh --dry-run {extra}: the secret must be created exactly without --vertex")
    if out[-1:] != ["setup: dry run, nothing was changed"]:
        failures.append(f"setup.sh --dry-run {extra}: last line {out[-1:]}")

# Idempotent: against a recording gcloud that says everything exists (and holds the same key),
# a run creates nothing and adds no secret version; when nothing exists, it creates each thing once.
import tempfile
with tempfile.TemporaryDirectory(prefix="assetgen-setup-") as tmp:
    key = os.path.join(tmp, "key.txt")
    open(key, "w").write("AIza-test-key")
    calls = os.path.join(tmp, "calls.txt")
    fake = os.path.join(tmp, "gcloud")
    with open(fake, "w") as f:
        f.write(f"""#!/bin/sh
echo "gcloud $*" >>"{calls}"
case "$*" in
  *" describe "*) [ -n "$EXISTS" ] || exit 1 ;;
  "secrets versions access"*) [ -n "$EXISTS" ] && printf AIza-test-key || exit 1 ;;
  "secrets versions list"*) echo projects/p-1/secrets/gemini-api-key/versions/3 ;;
esac
exit 0
""")
    os.chmod(fake, 0o755)
    for exists in ["", "1"]:
        open(calls, "w").close()
        r = subprocess.run(["bash", SCRIPT, "--project", "p-1", "--api-key-file", key], capture_output=True, text=True,
                           env={"PATH": tmp + ":/usr/bin:/bin", "EXISTS": exists})
        made = [l for l in open(calls).read().splitlines() if " create " in l or "versions add" in l]
        if r.returncode != 0:
            failures.append(f"setup.sh with a fake gcloud (exists={bool(exists)}) exited {r.returncode}: {r.stderr.strip()}")
        elif exists and made:
            failures.append(f"setup.sh run again created or added: {made}")
        elif not exists and len(made) != 6:
            failures.append(f"setup.sh on an empty project: 6 creates expected (bucket, repository, 2 accounts, secret, version), got {made}")
        if "pin the API key version 3" not in r.stdout:
            failures.append(f"setup.sh did not print the version to pin: {r.stdout.strip()[-200:]}")

for f in failures:
    print("FAIL: " + f, file=sys.stderr)
if failures:
    sys.exit(1)
print(f"samples/cloud IAM: README.md's table equals setup.sh's {len(grants)} grants; --dry-run prints them all")
