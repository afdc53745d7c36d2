#!/usr/bin/env bash
# batch-reservation-holds-budget.sh with a gs:// ledger (the GCS fake): a pending batch's
# reservation, written to the bucket's day object, holds the day's budget for a second process
# that shares the ledger (exit 3, nothing sent) until `--cancel` gives it back.
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/gcs-common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-common.inc"
unset CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT CLOUD_RUN_TASK_ATTEMPT BATCH_TASK_INDEX BATCH_TASK_COUNT JOB_COMPLETION_INDEX
start_gcs
ledger=gs://bkt/ledger
source "$ASSETGEN_SOURCE_DIR/tests/e2e/batch-reservation.inc"
gcs_names bkt ledger/ >names.txt
[ "$(wc -l <names.txt)" -ge 1 ] || fail "no ledger object in the bucket"
