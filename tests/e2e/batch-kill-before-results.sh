#!/usr/bin/env bash
# A batch job (`run --tier batch`, issue 17) SIGKILLed at four moments, each followed by the same
# command to completion: before the upload (the fake hangs at the resumable upload's start),
# after the upload (the file is made, its answer never comes), right after the create call was
# sent (the batch is made, its answer never comes), and while polling (a hung batches.get).
# 30 rows with --batch-size 20 are two chunks. Each time the fake made exactly one batch per
# chunk (by display name), every image exists once as a valid PNG, the manifest has one line per
# image, the ledger one paid line per image at the batch tier with every reservation settled
# once, each image costing what it cost in an uninterrupted run to the micro-dollar, and
# `ledger verify` passes. The fifth moment, while writing results, is
# batch-kill-writing-results.sh.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
moments=("upload-start 1" "upload-finalize 1" "create 1" "get 1")
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-kill.inc"
