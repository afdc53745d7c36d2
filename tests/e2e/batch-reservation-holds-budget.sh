#!/usr/bin/env bash
# A pending batch's reservation holds the day's budget for every other run (issue 17 item 3),
# with a local ledger: a `run --tier batch --no-wait` of 30 rows, kept PENDING by the fake, exits
# 75 having reserved $X (its worst case at the batch price, `ledger sum` shows it pending). A
# second process, a standard live run of 5 images with less than its worst case left beside $X,
# refuses (exit 3) and sends nothing; `--cancel` on the batch job cancels its batch and gives the
# money back (`ledger sum`: nothing pending, nothing paid), and the second process then runs.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
ledger=ledger
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-reservation.inc"
