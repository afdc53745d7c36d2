#!/usr/bin/env bash
# batch-kill-before-results.sh's checks for the fifth moment: SIGKILL while the results are
# written (the fake's download of the result file hangs after half of its bytes, so part of the
# images, manifest lines and ledger lines are written), then the same command to completion:
# one batch per chunk, every image once, each charged once at the batch tier and bound to its
# chunk's reservation, the total as in an uninterrupted run.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
moments=("download 1")
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-kill.inc"
