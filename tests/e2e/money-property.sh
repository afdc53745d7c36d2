#!/usr/bin/env bash
# Issue 13's property test: 200 randomized scenarios (concurrency 1–256, budgets, policies, dry and
# live runs, usage that overshoots its reservation, shard and unsharded runs mixed and together,
# SIGKILLs and resumes). After each, the ledger's total is within the limit (plus at most one
# request where a server reported more usage than the request reserved), nothing is sent once the
# day is over its limit, and every image is charged exactly once. The scenarios and checks are in
# money_property.py; PROPERTY_REPS=N runs fewer, PROPERTY_ONLY=N replays one.
source "$(dirname "$0")/common.inc"

start_fake gemini gemini_fake.py --api-key e2e-key --latency-ms 3
export GEMINI_API_KEY=e2e-key FAKE_URL
FAKE_URL=$(fake_url gemini)
export OVERSHOOT_MARKER="${OVERSHOOT_MARKER-[thoughts-tokens:400000]}"
python3 "$ASSETGEN_SOURCE_DIR/tests/e2e/money_property.py"
