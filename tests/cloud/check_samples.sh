#!/usr/bin/env bash
# Static checks of samples/cloud and samples/apps-script/appsscript.json: every YAML parses
# (PyYAML, Debian package python3-yaml), and each file says what the others and the CLI expect:
# the batch step's flags exist in cli/, every ${_SUBSTITUTION} used is declared, the Cloud Run
# job runs `assetgen run` with ASSETGEN_* variables that name real options, the Dockerfile
# builds what the README says and the root .dockerignore keeps the sources in the context. The
# sharded Cloud Run job: taskCount > 1, parallelism, no per-task output files, an --rpm, and a
# commented merge with --shards = taskCount. With ASSETGEN=path/to/assetgen the jobs' commands
# also run (dry_run, local folders) as Cloud Run would run them, each task and the merge.
# No Docker, no network. Exit status: 0 all good, 1 a check failed or PyYAML is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if ! python3 -c 'import yaml' 2>/dev/null; then
    echo "tests/cloud: PyYAML is missing (Debian: apt-get install python3-yaml; scripts/bootstrap --test installs it)" >&2
    exit 1
fi
exec python3 - "$root" <<'PY'
import fnmatch, json, os, re, sys
import yaml

root = sys.argv[1]
failures, warnings = [], []

def check(ok, message):
    if not ok:
        failures.append(message)

def read(rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()

# Long option names of the CLI, read from its sources (add_option("--x"...), add_flag("-q,--x"...)).
cli_text = "".join(read(os.path.join("cli", n)) for n in sorted(os.listdir(os.path.join(root, "cli"))) if n.endswith(".cpp"))
cli_options = set(re.findall(r'add_(?:option|flag)\(\s*"(?:-[A-Za-z],)?--([a-z0-9-]+)', cli_text))
check("daily-budget-usd" in cli_options, "could not read the run options from cli/*.cpp")

BUILTINS = {"PROJECT_ID", "BUILD_ID", "PROJECT_NUMBER", "LOCATION", "TRIGGER_NAME", "COMMIT_SHA",
            "REVISION_ID", "SHORT_SHA", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME", "TAG_NAME", "REF_NAME",
            "TRIGGER_BUILD_CONFIG_PATH", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT"}

def flags_of(args):
    return [a[2:] for a in args if isinstance(a, str) and a.startswith("--")]

# The `assetgen run ...` command of a step's bash script (after `exec`), as a word list with
# line continuations joined; [] when there is none.
def script_command(script, program="assetgen"):
    joined = re.sub(r"\\\n\s*", " ", script)
    for line in joined.splitlines():
        words = line.strip().split()
        if words[:2] == ["exec", program]:
            return [w.strip('"') for w in words[2:]]
    return []

def check_cloudbuild(rel, vertex):
    text = read(rel)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        failures.append(f"{rel}: does not parse: {e}")
        return None
    subs = doc.get("substitutions") or {}
    check(all(k.startswith("_") for k in subs), f"{rel}: user substitutions must start with _")
    nodollars = text.replace("$$", "")  # $$ is a literal $ for the step's shell
    body = re.sub(r"(?m)^substitutions:\n(?:[ ]{2}.*\n)+", "", nodollars)  # uses outside the declarations
    used = set(re.findall(r"\$\{?(_[A-Z0-9_]+)", nodollars))
    for name in sorted(used - set(subs)):
        failures.append(f"{rel}: ${{{name}}} is used but not declared in substitutions")
    for name in sorted(set(subs) - set(re.findall(r"\$\{?(_[A-Z0-9_]+)", body)) - set(re.findall(r"\$\{(_[A-Z0-9_]+)\}", "".join(str(v) for v in subs.values())))):
        failures.append(f"{rel}: substitution {name} is declared but never used")
    for name in sorted(set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", nodollars)) - BUILTINS):
        failures.append(f"{rel}: ${name} is not a Cloud Build built-in substitution (write $${name} for a shell variable)")
    opts = doc.get("options") or {}
    check(opts.get("dynamicSubstitutions") is True, f"{rel}: options.dynamicSubstitutions must be true (substitutions refer to others)")
    check(opts.get("logging") == "CLOUD_LOGGING_ONLY", f"{rel}: options.logging must be CLOUD_LOGGING_ONLY for a user-managed service account")
    check(subs.get("_BATCH_URI") == "", f"{rel}: _BATCH_URI must default to '' (building alone needs no batch)")
    check(subs.get("_SIGN_URLS") == "7d", f"{rel}: _SIGN_URLS must default to 7d (the sheet's thumbnails need signed URLs)")
    steps = {s.get("id"): s for s in doc.get("steps") or []}
    check(set(steps) >= {"image", "batch"}, f"{rel}: steps 'image' and 'batch' expected, found {sorted(steps)}")
    image = steps.get("image", {})
    script = " ".join(image.get("args") or [])
    check("-f samples/cloud/Dockerfile" in script and os.path.exists(os.path.join(root, "samples/cloud/Dockerfile")),
          f"{rel}: the image step must build samples/cloud/Dockerfile")
    check("docker push" in script, f"{rel}: the image step must push the image")
    batch = steps.get("batch", {})
    bargs = batch.get("args") or []
    check(batch.get("entrypoint") == "bash" and bargs[:1] == ["-c"] and len(bargs) == 2,
          f"{rel}: the batch step must be a bash script (it runs only when a batch is named)")
    bscript = bargs[1] if len(bargs) == 2 else ""
    check('if [ -z "${_BATCH_URI}" ]' in bscript, f"{rel}: the batch step must end at once when _BATCH_URI is empty")
    args = script_command(bscript)
    check(args[:2] == ["run", "${_BATCH_URI}"], f"{rel}: the batch step must exec `assetgen run ${{_BATCH_URI}}`, got {args[:2]}")
    check(batch.get("name") == "${_IMAGE}:${_TAG}", f"{rel}: the batch step must run the image the first step built")
    check(batch.get("allowExitCodes") == [1], f"{rel}: exit code 1 (some rows failed) must not fail the build")
    want = {"mode": "${_MODE}", "out": "${_OUT}", "ledger": "${_LEDGER}", "results": "${_RESULTS}",
            "daily-budget-usd": "${_DAILY_BUDGET_USD}", "user": "${_USER}"}
    for flag, value in want.items():
        i = args.index("--" + flag) if "--" + flag in args else -1
        check(i >= 0 and i + 1 < len(args) and args[i + 1] == value, f"{rel}: --{flag} {value} expected in the batch step")
    check('--sign-urls "${_SIGN_URLS}"' in bscript, f"{rel}: the batch step must pass --sign-urls ${{_SIGN_URLS}}")
    check("--quiet" in bscript, f"{rel}: the batch step should pass --quiet (no TTY in Cloud Build)")
    for flag in flags_of(args) + re.findall(r"set -- .*?--([a-z-]+)", bscript):
        if flag not in cli_options:
            failures.append(f"{rel}: --{flag} is not an option in cli/*.cpp")
    check(not doc.get("availableSecrets") and not batch.get("secretEnv"),
          f"{rel}: no availableSecrets: Cloud Build resolves them for the whole build, so a build or a dry run would need the secret")
    if vertex:
        check("key" not in steps, f"{rel}: the Vertex build must not read a secret")
        check(args[args.index("--api") + 1:args.index("--api") + 2] == ["vertex"] if "--api" in args else False,
              f"{rel}: the Vertex build must pass --api vertex")
    else:
        key = steps.get("key", {})
        kscript = " ".join(key.get("args") or [])
        check(key.get("name") == "gcr.io/cloud-builders/gcloud", f"{rel}: a `key` step with gcr.io/cloud-builders/gcloud expected")
        check('[ "${_MODE}" != "live" ]' in kscript and '[ -z "${_BATCH_URI}" ]' in kscript,
              f"{rel}: the key step must read the secret only for a live batch")
        check('gcloud secrets versions access "${_API_KEY_VERSION}"' in kscript and "latest" not in kscript
              and re.fullmatch(r"\d+", str(subs.get("_API_KEY_VERSION", ""))) is not None,
              f"{rel}: the key step must read a pinned secret version (_API_KEY_VERSION, a number)")
        vols = lambda st: [(v.get("name"), v.get("path")) for v in st.get("volumes") or []]
        check(vols(key) == vols(batch) and len(vols(key)) == 1, f"{rel}: the key and batch steps must share one volume")
        check("GEMINI_API_KEY=" in bscript and "export GEMINI_API_KEY" in bscript, f"{rel}: the batch step must export GEMINI_API_KEY from the volume")
    check("GOOGLE_APPLICATION_CREDENTIALS" not in text, f"{rel}: no key files: the build uses its service account")
    return doc

# A Cloud Run job's `--args` lists in its comments (the commands the README tells people to run):
# [(list, the --update-env-vars list that follows it in the same command or None)].
def commented_executions(text):
    comments = "\n".join(l for l in text.splitlines() if l.lstrip().startswith("#"))
    out = []
    for m in re.finditer(r"--args[= ]([^\s`]+)", comments):
        rest = comments[m.end():]
        cmd_end = re.search(r"\n#\s*(?:\n|$)|\n#\s*\(", rest)  # a blank comment line or a "(" ends the command
        cmd = rest[:cmd_end.start()] if cmd_end else rest
        env = re.search(r"--update-env-vars[= ]([^\s`]+)", cmd)
        out.append((m.group(1).split(","), env.group(1).split(",") if env else None))
    return out

def check_run_job(rel, sharded):
    text = read(rel)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        failures.append(f"{rel}: does not parse: {e}")
        return None
    check(doc.get("apiVersion") == "run.googleapis.com/v1" and doc.get("kind") == "Job", f"{rel}: a run.googleapis.com/v1 Job expected")
    execution = (((doc.get("spec") or {}).get("template") or {}).get("spec")) or {}
    tasks, parallelism = execution.get("taskCount"), execution.get("parallelism")
    if sharded:
        check(isinstance(tasks, int) and tasks > 1, f"{rel}: taskCount must be more than 1 (a sharded job), got {tasks!r}")
        check(isinstance(parallelism, int) and isinstance(tasks, int) and 1 <= parallelism <= tasks,
              f"{rel}: parallelism must be set, 1..taskCount, got {parallelism!r}")
    else:
        check(tasks == 1, f"{rel}: taskCount must be 1 (assetgen schedules inside one task)")
    task = ((execution.get("template") or {}).get("spec")) or {}
    check(isinstance(task.get("maxRetries"), int), f"{rel}: maxRetries must be set")
    if sharded:
        check(isinstance(task.get("maxRetries"), int) and task.get("maxRetries") >= 1,
              f"{rel}: maxRetries must be 1 or more (a retried task resumes its shard)")
    check(str(task.get("timeoutSeconds", "")).isdigit(), f"{rel}: timeoutSeconds must be set")
    check(bool(task.get("serviceAccountName")), f"{rel}: serviceAccountName must be set")
    containers = task.get("containers") or []
    check(len(containers) == 1, f"{rel}: one container expected")
    if not containers:
        return None
    c = containers[0]
    args = c.get("args") or []
    check(args[:1] == ["run"] and len(args) == 2, f"{rel}: args must be [run, <batch>]")
    env_vars = {}
    for env in c.get("env") or []:
        name = env.get("name", "")
        if name == "GEMINI_API_KEY":
            check("value" not in env and "secretKeyRef" in (env.get("valueFrom") or {}), f"{rel}: GEMINI_API_KEY must come from a secret")
            ref = (env.get("valueFrom") or {}).get("secretKeyRef") or {}
            check(re.fullmatch(r"\d+", str(ref.get("key", ""))) is not None,
                  f"{rel}: the secret's version must be pinned (secretKeyRef.key a number, not {ref.get('key')!r})")
        elif name.startswith("ASSETGEN_"):
            option = name[len("ASSETGEN_"):].lower().replace("_", "-")
            check(option in cli_options, f"{rel}: {name} names no option --{option} in cli/*.cpp")
            env_vars[name] = str(env.get("value", ""))
        else:
            failures.append(f"{rel}: unexpected environment variable {name}")
    if sharded:
        # Every task runs the same command: per-task files would overwrite each other, and the
        # shard comes from CLOUD_RUN_TASK_INDEX/COUNT.
        for name in ["ASSETGEN_RESULTS", "ASSETGEN_REPORT", "ASSETGEN_METRICS_FILE", "ASSETGEN_SHARD", "ASSETGEN_SHARDS"]:
            check(name not in env_vars, f"{rel}: {name} must not be set on a sharded job (every task would use the same value)")
        check(env_vars.get("ASSETGEN_RPM", "0").isdigit() and int(env_vars.get("ASSETGEN_RPM", "0")) > 0,
              f"{rel}: ASSETGEN_RPM must be set (the model's per-minute quota divided by taskCount)")
    executions = commented_executions(text)
    for listed, update_env in executions:
        for flag in flags_of(listed):
            check(flag in cli_options, f"{rel}: the commented command's --{flag} is not an option in cli/*.cpp")
        for kv in update_env or []:
            name = kv.split("=", 1)[0]
            if name.startswith("ASSETGEN_"):
                option = name[len("ASSETGEN_"):].lower().replace("_", "-")
                check(option in cli_options, f"{rel}: the commented command's {name} names no option --{option}")
    # Options only mentioned (they may be landing in cli/ right now): a warning, not a failure.
    for flag in sorted(set(re.findall(r"--(budget-lease-[a-z-]+)", text))):
        if flag not in cli_options:
            warnings.append(f"{rel}: --{flag} is mentioned but not (yet) an option in cli/*.cpp")
    merges = [(l, e) for l, e in executions if "--merge" in l]
    if sharded:
        check(len(merges) == 1, f"{rel}: the comments must show the merge command (--args=run,...,--merge,--shards,N)")
        if merges:
            l = merges[0][0]
            i = l.index("--shards") if "--shards" in l else -1
            check(i >= 0 and i + 1 < len(l) and l[i + 1] == str(tasks),
                  f"{rel}: the merge must pass --shards {tasks} (taskCount)")
            check(l[:2] == ["run", args[1] if len(args) > 1 else None], f"{rel}: the merge must name the same batch as the tasks")
    return {"tasks": tasks if isinstance(tasks, int) else 1, "args": args, "env": env_vars,
            "merge": merges[0] if merges else None}

# With ASSETGEN=path/to/assetgen: run the jobs' commands as Cloud Run would, in dry_run against a
# small local batch, gs://BUCKET/ mapped to a temporary folder: the one-task job once; the sharded
# job as each of its tasks (CLOUD_RUN_TASK_INDEX/COUNT/ATTEMPT), one task again as a retry, then
# the commented merge in the one-task job's environment, which must find every shard (same job id).
def exercise_run_jobs(single, sharded):
    binary = os.environ.get("ASSETGEN", "")
    if not binary:
        print("samples/cloud: ASSETGEN not set, the jobs' commands were not run", file=sys.stderr)
        return
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        failures.append(f"ASSETGEN={binary}: not an executable file")
        return
    if not single or not sharded:
        return
    import subprocess, tempfile
    with tempfile.TemporaryDirectory(prefix="assetgen-cloud-") as tmp:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("ASSETGEN_", "CLOUD_RUN_", "BATCH_TASK_", "JOB_COMPLETION_", "GEMINI_", "GOOGLE_"))}
        # As in a container whose HOME is root's (/builder/home): nothing can be created below HOME
        # (a regular file, so not even root can), no XDG_*; assetgen falls back to $TMPDIR.
        open(os.path.join(tmp, "home"), "w").close()
        os.makedirs(os.path.join(tmp, "tmp"))
        base = {k: v for k, v in base.items() if not k.startswith("XDG_")}
        base.update({"HOME": os.path.join(tmp, "home"), "TMPDIR": os.path.join(tmp, "tmp"),
                     "GEMINI_API_KEY": "unused-in-dry-run"})
        batch = os.path.join(tmp, "batch.csv")
        r = subprocess.run([binary, "seed", "--rows", "24", "--refs-every", "0", "--quiet", "-o", batch],
                           cwd=tmp, env=base, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            failures.append(f"assetgen seed failed ({r.returncode}): {r.stderr.strip()[-400:]}")
            return

        def local(value, root):
            if value.startswith("gs://BUCKET/batches/"):
                return batch
            return value.replace("gs://BUCKET/", root + "/") if value.startswith("gs://BUCKET/") else value

        def run(what, job, root, args, task, extra_env=()):
            env = dict(base)
            env.update({k: local(v, root) for k, v in job["env"].items()})
            env.update({k: local(v, root) for k, v in extra_env})
            env["ASSETGEN_MODE"] = "dry_run"  # never the model API from a test
            env.update({"CLOUD_RUN_TASK_INDEX": str(task[0]), "CLOUD_RUN_TASK_COUNT": str(task[1]),
                        "CLOUD_RUN_TASK_ATTEMPT": str(task[2])})
            cmd = [binary] + [local(a, root) for a in args]
            r = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                failures.append(f"{what}: `{' '.join(cmd[1:])}` exited {r.returncode}: {r.stderr.strip()[-600:]}")
            return r.returncode == 0

        run("cloud-run-job.yaml", single, os.path.join(tmp, "single"), single["args"], (0, 1, 0))
        root = os.path.join(tmp, "sharded")
        n = sharded["tasks"]
        ok = all([run(f"cloud-run-job-sharded.yaml task {i}/{n}", sharded, root, sharded["args"], (i, n, 0)) for i in range(n)])
        ok = run(f"cloud-run-job-sharded.yaml task {n - 1}/{n} retried", sharded, root, sharded["args"], (n - 1, n, 1)) and ok
        if ok and sharded["merge"]:
            merge_args, merge_env = sharded["merge"]
            extra = [tuple(kv.split("=", 1)) for kv in merge_env or [] if "=" in kv]
            if run("the merge in cloud-run-job-sharded.yaml's comments (in assetgen-batch)", single, root, merge_args, (0, 1, 0), extra):
                results = [local(v, root) for k, v in extra if k == "ASSETGEN_RESULTS"]
                for path in results:
                    check(os.path.isfile(path), f"the merge wrote no results file {path}")

# Cloud Build, step by step, through the fakes: substitutions resolved as Cloud Build does
# (dynamic, $$ → $), each step's bash script run with a recording `docker` / `gcloud` in place
# of the builders and the real assetgen as the image's entrypoint, the shared volume a temp
# folder; the GCS fake as Cloud Storage and the OAuth fake as the metadata server and IAM
# signBlob. HOME is a root-owned read-only folder as /builder/home (run as uid 10001, the
# image's USER, when this runs as root), or a regular file otherwise; no XDG_*.
def resolve_subs(doc, overrides, builtins):
    values = dict(builtins)
    values.update({k: str(v) for k, v in (doc.get("substitutions") or {}).items()})
    values.update(overrides)
    for _ in range(10):
        values = {k: expand(v, values, keep_dollars=True) for k, v in values.items()}
    return values

def expand(text, values, keep_dollars=False):
    def one(m):
        if m.group(0) == "$$":
            return "$$" if keep_dollars else "$"
        return values.get(m.group(1) or m.group(2), "")
    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Z_][A-Z0-9_]*)", one, text)

def exercise_builds(build_doc, vertex_doc):
    binary = os.environ.get("ASSETGEN", "")
    if not binary or not build_doc or not vertex_doc:
        print("samples/cloud: ASSETGEN not set, the build files were not run step by step", file=sys.stderr)
        return
    import shutil, stat, subprocess, tempfile, time
    with tempfile.TemporaryDirectory(prefix="assetgen-build-") as tmp:
        os.chmod(tmp, 0o755)
        as_root = os.geteuid() == 0 and shutil.which("setpriv") is not None
        fakebin = os.path.join(tmp, "bin")
        os.makedirs(fakebin)
        shutil.copy(binary, os.path.join(fakebin, "assetgen"))
        calls = os.path.join(tmp, "calls.txt")
        for tool, extra in [("docker", ""), ("gcloud", 'case "$*" in "secrets versions access"*) printf fake-api-key-from-secret-manager;; esac')]:
            path = os.path.join(fakebin, tool)
            with open(path, "w") as f:
                f.write(f'#!/bin/sh\necho "{tool} $*" >>"{calls}"\n{extra}\n')
        for name in os.listdir(fakebin):
            os.chmod(os.path.join(fakebin, name), 0o755)
        home = os.path.join(tmp, "builder-home")
        os.makedirs(home)
        if as_root:
            os.chmod(home, 0o555)
        else:
            os.rmdir(home)
            open(home, "w").close()
        tmpdir = os.path.join(tmp, "tmp")
        os.makedirs(tmpdir)
        os.chmod(tmpdir, 0o1777)
        key = os.path.join(tmp, "sa-key.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                       check=True, capture_output=True)
        fakes, ports = [], {}
        try:
            for name, script, args in [("gcs", "gcs_fake.py", []),
                                       ("oauth", "oauth_fake.py", ["--signing-key", key, "--project", "test-project"])]:
                port_file = os.path.join(tmp, name + ".port")
                fakes.append(subprocess.Popen([sys.executable, os.path.join(root, "tests/fakes", script), "--port", "0",
                                               "--port-file", port_file] + args, stderr=subprocess.DEVNULL))
                for _ in range(200):
                    if os.path.exists(port_file) and open(port_file).read().strip():
                        break
                    time.sleep(0.05)
                ports[name] = open(port_file).read().strip()
            env_base = {"PATH": fakebin + ":" + os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "TMPDIR": tmpdir,
                        "STORAGE_EMULATOR_HOST": "127.0.0.1:" + ports["gcs"],
                        "GCE_METADATA_HOST": "127.0.0.1:" + ports["oauth"],
                        "ASSETGEN_IAM_ENDPOINT": "http://127.0.0.1:" + ports["oauth"], "NO_COLOR": "1"}
            gcs = "http://127.0.0.1:" + ports["gcs"]
            ran_as = []

            def run_build(rel, doc, overrides, only=None):
                open(calls, "w").close()
                values = resolve_subs(doc, overrides, {"PROJECT_ID": "test-project", "BUILD_ID": "b-0001",
                                                       "PROJECT_NUMBER": "123", "LOCATION": "global"})
                outcome = []
                for step in doc.get("steps") or []:
                    if only and step.get("id") not in only:
                        continue
                    volumes = {}
                    for v in step.get("volumes") or []:
                        volumes[v["path"]] = os.path.join(tmp, "volume-" + v["name"])
                        os.makedirs(volumes[v["path"]], exist_ok=True)
                        os.chmod(volumes[v["path"]], 0o777)
                    args = []
                    for a in step.get("args") or []:
                        a = expand(a, values)
                        for path, local in volumes.items():
                            a = a.replace(path + "/", local + "/")
                        args.append(a)
                    image_step = expand(step.get("name", ""), values) == expand("${_IMAGE}:${_TAG}", values)
                    cmd = [step.get("entrypoint") or ("assetgen" if image_step else step["name"])] + args
                    as_user = ["setpriv", "--reuid", "10001", "--regid", "10001", "--clear-groups"] if as_root else []
                    if image_step:  # the image's USER 10001:10001
                        cmd = as_user + cmd
                        ran_as.append(subprocess.run(as_user + ["id", "-u"], capture_output=True, text=True).stdout.strip())
                    r = subprocess.run(cmd, cwd=tmp, env=env_base, capture_output=True, text=True, timeout=300)
                    ok = r.returncode == 0 or r.returncode in (step.get("allowExitCodes") or [])
                    outcome.append((step.get("id"), r.returncode, r.stdout + r.stderr))
                    if not ok:
                        failures.append(f"{rel} {overrides}: step {step.get('id')} exited {r.returncode}: {(r.stdout + r.stderr).strip()[-600:]}")
                        break
                return outcome, open(calls).read()

            # 1. Build and push only: the defaults, no batch, no secret.
            for rel, doc in [("cloudbuild.yaml", build_doc), ("cloudbuild-vertex.yaml", vertex_doc)]:
                outcome, tools = run_build(rel, doc, {})
                check([o[1] for o in outcome] == [0] * len(doc["steps"]), f"{rel}: the build-only path did not end SUCCESS: {outcome}")
                check("docker build -f samples/cloud/Dockerfile -t us-central1-docker.pkg.dev/test-project/assetgen/assetgen:latest" in tools
                      and "docker push --all-tags" in tools, f"{rel}: the image step did not build and push: {tools!r}")
                check("gcloud" not in tools, f"{rel}: the build-only path read a secret: {tools!r}")
                check(any("no batch named" in o[2] for o in outcome), f"{rel}: the batch step did not say it had nothing to run")

            # 2. A dry-run batch named, image already pushed: no secret, the batch runs through the fakes.
            batch = os.path.join(tmp, "batch.csv")
            subprocess.run([binary, "seed", "--rows", "6", "--refs-every", "0", "-o", batch, "--quiet"], check=True,  # 12 images
                           capture_output=True)
            import urllib.request, urllib.parse
            q = urllib.parse.urlencode({"uploadType": "media", "name": "batches/sheet.csv"})
            urllib.request.urlopen(urllib.request.Request(f"{gcs}/upload/storage/v1/b/test-project-assetgen/o?{q}",
                                                          data=open(batch, "rb").read(), method="POST")).read()
            for rel, doc in [("cloudbuild.yaml", build_doc), ("cloudbuild-vertex.yaml", vertex_doc)]:
                outcome, tools = run_build(rel, doc, {"_BATCH_URI": "gs://test-project-assetgen/batches/sheet.csv",
                                                      "_BUILD_IMAGE": "false", "_RESULTS": "gs://test-project-assetgen/results/" + rel + ".csv",
                                                      "_OUT": "gs://test-project-assetgen/assets-" + rel})
                check([o[1] for o in outcome] == [0] * len(doc["steps"]), f"{rel}: the dry-run batch did not end SUCCESS: {outcome}")
                check("gcloud" not in tools and "docker" not in tools, f"{rel}: a dry run with _BUILD_IMAGE=false called {tools!r}")
                try:
                    name = urllib.parse.quote("results/" + rel + ".csv", safe="")
                    results = urllib.request.urlopen(f"{gcs}/storage/v1/b/test-project-assetgen/o/{name}?alt=media").read().decode()
                    check(results.count("X-Goog-Signature=") == 12, f"{rel}: the results lack the 12 images' signed URLs (--sign-urls 7d): {results[:300]!r}")
                except Exception as e:  # noqa: BLE001
                    failures.append(f"{rel}: no results object after the dry-run batch: {e}")

            # 3. A live batch reads the pinned secret version, in the key step only.
            outcome, tools = run_build("cloudbuild.yaml", build_doc, {"_BATCH_URI": "gs://x/b.csv", "_MODE": "live"}, only={"key"})
            check("gcloud secrets versions access 1 --secret=gemini-api-key --project=test-project" in tools,
                  f"cloudbuild.yaml: the live key step did not read version 1 of the secret: {tools!r}")
            check(open(os.path.join(tmp, "volume-secret", "gemini-api-key")).read() == "fake-api-key-from-secret-manager",
                  "cloudbuild.yaml: the key step did not leave the key in the shared volume")
            check(set(ran_as) == ({"10001"} if as_root else {str(os.getuid())}), f"the image's steps ran as uid {set(ran_as)}")
            print("samples/cloud: both build files run step by step: build-only and dry-run batch SUCCESS without a secret"
                  + (" (batch step as uid 10001, HOME root-owned read-only)" if as_root else " (HOME unwritable)"), file=sys.stderr)
        finally:
            for f in fakes:
                f.terminate()
                f.wait(timeout=10)

def check_dockerfile(rel):
    text = read(rel)
    stages = re.split(r"(?m)^FROM\s", text)  # [header, build stage, runtime stage]
    froms = re.findall(r"(?m)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text)
    args = dict(re.findall(r"(?m)^ARG\s+([A-Z_]+)=(\S+)", text))
    resolved = [re.sub(r"\$\{([A-Z_]+)\}", lambda m: args.get(m.group(1), "?"), f[0]) for f in froms]
    check(resolved == ["debian:bookworm", "debian:bookworm-slim"], f"{rel}: stages debian:bookworm then debian:bookworm-slim expected, got {resolved}")
    check("-DASSETGEN_TESTS=OFF" in text and "-DCMAKE_BUILD_TYPE=Release" in text and "-G Ninja" in text, f"{rel}: the Release/Ninja/no-tests configure line is missing")
    for pkg in ["build-essential", "cmake", "ninja-build", "libcli11-dev", "nlohmann-json3-dev", "libssl-dev",
                "libcurl4-openssl-dev", "zlib1g-dev", "libhowardhinnant-date-dev", "catch2"]:
        check(re.search(r"(?<![\w-])" + re.escape(pkg) + r"(?![\w-])", stages[1] if len(stages) > 1 else "") is not None, f"{rel}: build stage lacks {pkg}")
    runtime = stages[2] if len(stages) > 2 else ""
    for pkg in ["libcurl4", "libssl3", "zlib1g", "libdate-tz3", "tzdata", "ca-certificates"]:
        check(re.search(r"(?<![\w-])" + re.escape(pkg) + r"(?![\w-])", runtime) is not None, f"{rel}: runtime stage lacks {pkg}")
    check("-dev" not in re.sub(r"(?m)^#.*$", "", runtime), f"{rel}: the runtime stage must not install -dev packages")
    check('ENTRYPOINT ["assetgen"]' in runtime, f"{rel}: ENTRYPOINT [\"assetgen\"] expected")
    for var in ["XDG_STATE_HOME", "XDG_CACHE_HOME"]:
        check(re.search(r"(?m)^ENV\s(?:.*\\\n)*.*\b" + var + r"=/", runtime) is not None,
              f"{rel}: the runtime stage must set {var} (Cloud Build's HOME is root's /builder/home)")
    users = re.findall(r"(?m)^USER\s+(\S+)", runtime)
    check(users and users[-1].split(":")[0] not in ("root", "0"), f"{rel}: the runtime must run as a non-root USER")
    for src in re.findall(r"(?m)^COPY\s+(?!--from)(\S+)\s", text):
        check(os.path.exists(os.path.join(root, src)), f"{rel}: COPY {src}: no such path in the repository")

def check_dockerignore():
    path = os.path.join(root, ".dockerignore")
    check(os.path.exists(path), ".dockerignore must be at the repository root (the build context)")
    if not os.path.exists(path):
        return
    patterns = [l.strip() for l in read(".dockerignore").splitlines() if l.strip() and not l.startswith("#")]
    def ignored(rel):
        out = False
        for p in patterns:
            neg = p.startswith("!")
            p = p[1:] if neg else p
            p = p.rstrip("/")
            parts = rel.split("/")
            if any(fnmatch.fnmatch("/".join(parts[:i]), p) for i in range(1, len(parts) + 1)):
                out = not neg
        return out
    for rel in [".git", "build", "build-gcs", "out", "ledger"]:
        check(ignored(rel), f".dockerignore should exclude {rel}")
    for rel in ["CMakeLists.txt", "core/util/status.cpp", "cli/main.cpp", "samples/cloud/Dockerfile"]:
        check(not ignored(rel), f".dockerignore must not exclude {rel} (the image is built from it)")

build_doc = check_cloudbuild("samples/cloud/cloudbuild.yaml", vertex=False)
vertex_doc = check_cloudbuild("samples/cloud/cloudbuild-vertex.yaml", vertex=True)
single_job = check_run_job("samples/cloud/cloud-run-job.yaml", sharded=False)
sharded_job = check_run_job("samples/cloud/cloud-run-job-sharded.yaml", sharded=True)
exercise_run_jobs(single_job, sharded_job)
exercise_builds(build_doc, vertex_doc)
check_dockerfile("samples/cloud/Dockerfile")
check_dockerignore()
try:
    manifest = json.loads(read("samples/apps-script/appsscript.json"))
    check(isinstance(manifest.get("oauthScopes"), list), "appsscript.json: oauthScopes missing")
except json.JSONDecodeError as e:
    failures.append(f"appsscript.json: not JSON: {e}")

for w in warnings:
    print("warning: " + w, file=sys.stderr)
for f in failures:
    print("FAIL: " + f, file=sys.stderr)
if failures:
    sys.exit(1)
print(f"samples/cloud: all checks passed ({len(warnings)} warnings)")
PY
