#!/usr/bin/env python3
"""Randomized runs against the money promises (issue 13's property test).

How this works: each repetition draws a scenario from a seeded RNG (the repetition number):
a batch of 3..30 rows with 1..3 variants, a daily limit, a budget policy, a concurrency from 1 to
256, a mode (a dry run with simulated latency, or a live run through the loopback Gemini fake),
and a list of 1..4 steps. A step is an unsharded run, a shard run (--shard I/N), an unsharded run
and a shard run started together, or a run killed with SIGKILL at a random moment. Some live
scenarios put an overshoot marker in one row's prompt: the fake then reports usage above what
the request reserved. Every step of a scenario shares one ledger folder and one output folder, so
later steps resume earlier ones.

After each scenario the ledger is read and these must hold:
  - the day's spend is <= the limit, exactly, when no usage overshot its reservation;
  - with an overshoot, spend <= the limit plus one request's worst case (the line that overshot
    is the only request whose cost passed its reservation: new requests stop at once);
  - once the day is over its limit, a later step sends no request to the fake;
  - every image is charged once: one ok ledger line per (job, scene, variant), no more, and each
    image in a manifest has exactly that line;
  - a ledger line's cost is never negative;
  - live: every request the fake billed is in the ledger (a paid line), save at most one per
    worker for each kill (a request whose answer arrived but whose image was not yet stored
    when the kill came); a paid image waiting for its group commit is never among them (its
    ledger line is written before its manifest line, README "Resuming").
A failing scenario prints its seed and steps, so `PROPERTY_ONLY=N` replays it.

Environment: ASSETGEN (the binary), PROPERTY_REPS (default 200), PROPERTY_ONLY (one rep),
FAKE_URL (the Gemini fake, started by the calling script), OVERSHOOT_MARKER (the prompt marker
that makes the fake report more thinking tokens than were reserved).
"""

import csv
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

BIN = os.environ["ASSETGEN"]
FAKE = os.environ["FAKE_URL"]
MARKER = os.environ.get("OVERSHOOT_MARKER", "")
REPS = int(os.environ.get("PROPERTY_REPS", "200"))
ONLY = os.environ.get("PROPERTY_ONLY")
WORK = os.getcwd()


def fake(path, body=None):
    if body is None:
        return json.load(urllib.request.urlopen(FAKE + path, timeout=30))
    req = urllib.request.Request(FAKE + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=30))


def fake_requests():
    return fake("/_fake/stats")["requests"]


def fake_billed():
    return fake("/_fake/stats")["by_status"].get("200", 0)


def draw(rep):
    rng = random.Random(rep)
    s = {"rep": rep}
    s["rows"] = rng.randint(3, 30)
    s["variants"] = [rng.randint(1, 3) for _ in range(s["rows"])]
    images = sum(s["variants"])
    if rng.random() < 0.4:  # room for the whole batch, so refuse-policy runs spend too
        s["limit_usd"] = round(images * 0.045 + rng.uniform(0.0, 1.0), 2)
    else:
        s["limit_usd"] = round(rng.uniform(0.05, images * 0.04), 2)
    s["policy"] = rng.choice(["refuse", "partial", "partial"])
    s["concurrency"] = rng.choice([1, 2, 3, 4, 8, 16, 64, 256])
    s["mode"] = "live" if rng.random() < 0.35 else "dry_run"
    s["overshoot_row"] = (rng.randrange(s["rows"])
                          if s["mode"] == "live" and MARKER and rng.random() < 0.5 else None)
    if s["overshoot_row"] is not None:
        # One lying answer: the row has one variant. (Several lies in flight at once can each
        # pass their reservation before the first is seen; README's worst case says so.)
        s["variants"][s["overshoot_row"]] = 1
    n = rng.choice([2, 3])
    steps = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["all", "shard", "pair", "kill", "kill"])
        step = {"kind": kind, "shards": n, "index": rng.randrange(n),
                "kill_after": round(rng.uniform(0.0, 0.4), 3)}
        steps.append(step)
    steps.append({"kind": "all", "shards": n, "index": 0, "kill_after": 0})  # finish what fits
    s["steps"] = steps
    s["sim_seed"] = rng.randint(1, 10**6)
    return s


def write_batch(s, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["scene_id", "prompt", "variants"])
        for i in range(s["rows"]):
            prompt = "product on clean bg #%d rep %d" % (i + 1, s["rep"])
            if s["overshoot_row"] == i:
                prompt += " " + MARKER
            w.writerow(["P%d-%02d" % (s["rep"], i + 1), prompt, s["variants"][i]])


def command(s, step, shard):
    cmd = [BIN, "run", "b.csv", "--out", "out", "--ledger", "ledger", "--quiet",
           "--daily-budget-usd", str(s["limit_usd"]), "--budget-policy", s["policy"],
           "--concurrency", str(s["concurrency"]), "--max-variants", "3"]
    if s["mode"] == "live":
        cmd += ["--mode", "live", "--api-base", FAKE, "--max-attempts", "2"]
    else:
        cmd += ["--simulate", "latency=2ms,jitter=3ms,seed=%d" % s["sim_seed"]]
    if shard:
        cmd += ["--shard", "%d/%d" % (step["index"], step["shards"])]
    return cmd


def spawn(cmd, log):
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)


def run_step(s, step, log):
    """Runs one step; returns the exit codes it saw."""
    kind = step["kind"]
    if kind == "all":
        return [spawn(command(s, step, False), log).wait()]
    if kind == "shard":
        return [spawn(command(s, step, True), log).wait()]
    if kind == "pair":
        a = spawn(command(s, step, False), log)
        b = spawn(command(s, step, True), log)
        return [a.wait(), b.wait()]
    p = spawn(command(s, step, False), log)  # kill
    deadline = time.time() + step["kill_after"]
    while time.time() < deadline and p.poll() is None:
        time.sleep(0.005)
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    return [p.wait()]


def ledger_lines():
    out = []
    for path in sorted(glob.glob("ledger/*.jsonl")):
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                if not line.endswith("\n"):  # a torn last line of a killed writer: not a charge
                    continue
                raise AssertionError("%s:%d: unreadable ledger line" % (path, n))
    return out


def manifest_images():
    images = {}
    for path in glob.glob("out/job-*/manifest.jsonl") + glob.glob("out/job-*/shards/*/manifest.jsonl"):
        for line in open(path, encoding="utf-8"):
            if not line.strip() or not line.endswith("\n"):
                continue
            m = json.loads(line)
            if m.get("status", "ok") == "ok":
                images.setdefault((m.get("scene_id"), m.get("variant")), set()).add(m.get("sha256"))
    return images


def micros(usd):
    return round(usd * 1_000_000)


def check(s, codes, sent_after_over, billed=0):
    lines = ledger_lines()
    mode = s["mode"]
    mine = [l for l in lines if l.get("mode") == mode]
    costs = [micros(l.get("cost", 0)) for l in mine]
    assert all(c >= 0 for c in costs), "a negative cost"
    total, limit = sum(costs), micros(s["limit_usd"])
    over = [l for l in mine if micros(l.get("cost", 0)) > micros(l.get("estimated", 0)) * 2 + 1]
    if s["overshoot_row"] is None:
        assert total <= limit, "spent $%.6f over the limit $%.2f" % (total / 1e6, s["limit_usd"])
    else:
        worst = max(costs) if costs else 0
        assert total <= limit + worst, "spent $%.6f, over the limit $%.2f plus one request" % (
            total / 1e6, s["limit_usd"])
    assert not sent_after_over, "requests were sent after the day was over its limit: %s" % sent_after_over
    charged = {}
    for l in mine:
        if l.get("status") == "ok" and l.get("images", 0) > 0:
            key = (l.get("scene_id"), l.get("variant"))
            charged[key] = charged.get(key, 0) + 1
    if mode == "live":
        paid = sum(1 for c in costs if c > 0)
        kills = sum(1 for st in s["steps"] if st["kind"] == "kill")
        assert paid <= billed, "%d paid ledger lines for %d billed requests" % (paid, billed)
        assert billed - paid <= kills * s["concurrency"], (
            "%d billed requests are not in the ledger (%d kills at concurrency %d)" % (
                billed - paid, kills, s["concurrency"]))
    twice = {k: v for k, v in charged.items() if v > 1}
    assert not twice, "charged more than once: %s" % sorted(twice.items())[:5]
    images = manifest_images()
    for key, shas in images.items():
        assert len(shas) == 1, "%s has %d different images" % (key, len(shas))
        assert charged.get(key, 0) == 1, "%s is in a manifest with %d ok ledger lines" % (
            key, charged.get(key, 0))
    return total, len(charged), over


def scenario(rep):
    s = draw(rep)
    d = os.path.join(WORK, "rep-%d" % rep)
    os.makedirs(d)
    os.chdir(d)
    try:
        write_batch(s, "b.csv")
        codes, sent_after_over = [], []
        billed_before = fake_billed() if s["mode"] == "live" else 0
        with open("stderr.txt", "w") as log:
            for i, step in enumerate(s["steps"]):
                spent = sum(micros(l.get("cost", 0)) for l in ledger_lines() if l.get("mode") == s["mode"])
                before = fake_requests()
                codes.append(run_step(s, step, log))
                if spent >= micros(s["limit_usd"]) and fake_requests() != before:
                    sent_after_over.append((i, step["kind"], fake_requests() - before))
        billed = fake_billed() - billed_before if s["mode"] == "live" else 0
        total, images, over = check(s, codes, sent_after_over, billed)
        return "rep %d: %s %s c=%d $%.2f %s rows=%d: $%.6f, %d images, codes %s" % (
            rep, s["mode"], s["policy"], s["concurrency"], s["limit_usd"],
            "+".join(st["kind"] for st in s["steps"]), s["rows"], total / 1e6, images, codes)
    except AssertionError as e:
        sys.stderr.write("FAIL rep %d: %s\nscenario: %s\n" % (rep, e, json.dumps(s)))
        sys.stderr.write(open("stderr.txt").read()[-3000:] if os.path.exists("stderr.txt") else "")
        return None
    finally:
        os.chdir(WORK)
        if os.environ.get("PROPERTY_KEEP") is None:
            shutil.rmtree(d, ignore_errors=True)


def main():
    reps = [int(ONLY)] if ONLY else range(1, REPS + 1)
    failed = 0
    for rep in reps:
        line = scenario(rep)
        if line is None:
            failed += 1
        elif os.environ.get("PROPERTY_VERBOSE"):
            print(line)
    passed = len(list(reps)) - failed
    print("money property: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
