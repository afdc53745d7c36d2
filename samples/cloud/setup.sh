#!/usr/bin/env bash
# Sets up a Google Cloud project for assetgen's samples (samples/cloud/README.md): the APIs, the
# bucket, the Artifact Registry repository, the Gemini API key secret (a pinned version), the
# build's and the Cloud Run job's service accounts, and least-privilege roles for them, the
# sheet user and whoever deploys the Cloud Run jobs. Idempotent: what exists is left alone
# (`describe` before `create`; IAM bindings are added only once by gcloud itself), so it can be
# run again after a change. --dry-run prints every command instead of running it.
#
#   samples/cloud/setup.sh --project my-project [--region us-central1] [--bucket NAME]
#       [--sheet-user ana@example.com] [--deployer user:ops@example.com]
#       [--api-key-file key.txt] [--vertex] [--dry-run]
#
# The grants are the `grant` lines below, each with the documented reason; the "Who needs which
# role" table in samples/cloud/README.md lists the same (tests/cloud/check_iam.py compares them).
set -euo pipefail

project="" region="us-central1" bucket="" sheet_user="" deployer="" key_file="" vertex=0 dry_run=0
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --project) project=$2; shift ;;
    --region) region=$2; shift ;;
    --bucket) bucket=$2; shift ;;
    --sheet-user) sheet_user=$2; shift ;;
    --deployer) deployer=$2; shift ;;
    --api-key-file) key_file=$2; shift ;;
    --vertex) vertex=1 ;;
    --dry-run) dry_run=1 ;;
    -h|--help) usage 0 ;;
    *) echo "setup.sh: unknown option \"$1\"" >&2; usage 2 ;;
  esac
  shift
done
[ -n "$project" ] || { echo "setup.sh: --project: required (the Google Cloud project id)" >&2; exit 2; }
bucket=${bucket:-$project-assetgen}
repo=assetgen
secret=gemini-api-key
builder="assetgen-builder@$project.iam.gserviceaccount.com"
runner="assetgen-runner@$project.iam.gserviceaccount.com"

# run CMD...: runs it, or with --dry-run prints it (quoted so it can be pasted).
run() {
  if [ "$dry_run" = 1 ]; then
    printf '%q ' "$@" | sed 's/ $//'
    echo
  else
    "$@"
  fi
}
# exists CMD...: true when a `describe` succeeds; with --dry-run prints it and answers "no".
exists() {
  if [ "$dry_run" = 1 ]; then
    printf '%q ' "$@" | sed 's/ $//'
    echo "  # exists?"
    return 1
  fi
  "$@" >/dev/null 2>&1
}

# grant WHO ROLE ON WHY: one IAM binding. WHO: build | runner | sheet | deployer. ON: bucket,
# repository, project, secret, self (the account on itself), runner-account, build-account.
grant() {
  local who=$1 role=$2 on=$3 member
  case "$who" in
    build) member="serviceAccount:$builder" ;;
    runner) member="serviceAccount:$runner" ;;
    sheet) [ -n "$sheet_user" ] || return 0; member="user:$sheet_user" ;;
    deployer) [ -n "$deployer" ] || return 0; member=$deployer ;;
  esac
  case "$on" in
    bucket) run gcloud storage buckets add-iam-policy-binding "gs://$bucket" --member="$member" --role="$role" ;;
    repository) run gcloud artifacts repositories add-iam-policy-binding "$repo" --location="$region" \
                  --project="$project" --member="$member" --role="$role" ;;
    project) run gcloud projects add-iam-policy-binding "$project" --member="$member" --role="$role" --condition=None ;;
    secret) run gcloud secrets add-iam-policy-binding "$secret" --project="$project" --member="$member" --role="$role" ;;
    self) local sa=${member#serviceAccount:}
          run gcloud iam service-accounts add-iam-policy-binding "$sa" --project="$project" --member="$member" --role="$role" ;;
    runner-account) run gcloud iam service-accounts add-iam-policy-binding "$runner" --project="$project" \
                      --member="$member" --role="$role" ;;
    build-account) run gcloud iam service-accounts add-iam-policy-binding "$builder" --project="$project" \
                     --member="$member" --role="$role" ;;
  esac
}

# 1. APIs. IAM Credentials: signBlob, which signs the thumbnails' URLs without a key file.
apis=(cloudbuild.googleapis.com run.googleapis.com artifactregistry.googleapis.com secretmanager.googleapis.com
      iamcredentials.googleapis.com storage.googleapis.com)
[ "$vertex" = 1 ] && apis+=(aiplatform.googleapis.com)
run gcloud services enable "${apis[@]}" --project="$project"

# 2. The bucket (uniform access: IAM only, no object ACLs), the Docker repository, the accounts.
exists gcloud storage buckets describe "gs://$bucket" ||
  run gcloud storage buckets create "gs://$bucket" --project="$project" --location="$region" --uniform-bucket-level-access
exists gcloud artifacts repositories describe "$repo" --location="$region" --project="$project" ||
  run gcloud artifacts repositories create "$repo" --repository-format=docker --location="$region" --project="$project"
exists gcloud iam service-accounts describe "$builder" --project="$project" ||
  run gcloud iam service-accounts create assetgen-builder --project="$project" --display-name="assetgen builds"
exists gcloud iam service-accounts describe "$runner" --project="$project" ||
  run gcloud iam service-accounts create assetgen-runner --project="$project" --display-name="assetgen Cloud Run jobs"

# 3. The Gemini API key (not for --vertex): the secret, then a version from --api-key-file. The
#    builds and the jobs name a version number (_API_KEY_VERSION, secretKeyRef.key), not
#    `latest`: a rotation is then a deliberate change, and a bad new key breaks nothing running.
if [ "$vertex" = 0 ]; then
  exists gcloud secrets describe "$secret" --project="$project" ||
    run gcloud secrets create "$secret" --project="$project" --replication-policy=automatic
  # A new version only when the key differs from the newest one (so a second run adds none).
  if [ -n "$key_file" ]; then
    if [ "$dry_run" = 1 ] || ! gcloud secrets versions access latest --secret="$secret" --project="$project" 2>/dev/null |
         cmp -s - "$key_file"; then
      run gcloud secrets versions add "$secret" --project="$project" --data-file="$key_file"
    fi
  fi
fi

# 4. Roles. Each line: who, role, on what, and why (the README's table says the same).
# The build's service account (Cloud Build runs assetgen as it):
# - objectUser, not objectAdmin: get/list/create/delete objects is what a run needs (the ledger's
#   compose appends, deleting its parts, rewriting state and results); no object ACLs or IAM.
grant build roles/storage.objectUser bucket "read the batch; write images, manifests, results, ledger and leases"
# - push the image it builds (writer includes reading it back for the batch step).
grant build roles/artifactregistry.writer repository "push the image"
# - a user-managed build service account must be allowed to write the build's logs.
grant build roles/logging.logWriter project "write the build logs (CLOUD_LOGGING_ONLY)"
# - signBlob as itself: V4 signed URLs (--sign-urls 7d) for the sheet's thumbnails, no key file.
grant build roles/iam.serviceAccountTokenCreator self "sign the thumbnails' URLs (signBlob as itself)"
if [ "$vertex" = 0 ]; then
  # - read the API key, on this one secret only (not project-wide).
  grant build roles/secretmanager.secretAccessor secret "read the Gemini API key (live runs only)"
else
  # - call the Vertex AI image models.
  grant build roles/aiplatform.user project "call the Vertex AI models (--vertex only)"
fi
# The Cloud Run job's service account (serviceAccountName in cloud-run-job*.yaml):
grant runner roles/storage.objectUser bucket "the same objects as a build"
grant runner roles/iam.serviceAccountTokenCreator self "sign the thumbnails' URLs (signBlob as itself)"
if [ "$vertex" = 0 ]; then
  grant runner roles/secretmanager.secretAccessor secret "the job's GEMINI_API_KEY secretKeyRef"
else
  grant runner roles/aiplatform.user project "call the Vertex AI models (--vertex only)"
fi
# The sheet user (--sheet-user), whose OAuth token the Apps Script uses:
# - start builds (trigger or inline) and read their status.
grant sheet roles/cloudbuild.builds.editor project "start builds and read their status"
# - upload the batch (create only: the script uploads with ifGenerationMatch=0) ...
grant sheet roles/storage.objectCreator bucket "upload the batch"
# - ... and read results and the day totals (Spend today); no delete or overwrite.
grant sheet roles/storage.objectViewer bucket "read results and the ledger's day totals"
# - an inline build that names the build service account acts as it.
grant sheet roles/iam.serviceAccountUser build-account "run inline builds as the build service account"
# Whoever deploys and executes the Cloud Run jobs (--deployer user:...|group:...):
# - replace the jobs and execute them with --args / --update-env-vars overrides: run.developer
#   (run.invoker executes only without overrides).
grant deployer roles/run.developer project "deploy the jobs; execute them with overrides"
# - deploying a job that runs as the runner account acts as that account.
grant deployer roles/iam.serviceAccountUser runner-account "deploy jobs that run as the runner account"

if [ "$dry_run" = 0 ] && [ "$vertex" = 0 ]; then
  version=$(gcloud secrets versions list "$secret" --project="$project" --filter=state=ENABLED \
              --sort-by=~createTime --limit=1 --format='value(name)' 2>/dev/null | sed 's|.*/||')
  echo "setup: pin the API key version ${version:-<none yet: add one with --api-key-file>}: _API_KEY_VERSION in the build files, secretKeyRef.key in the job YAML"
fi
if [ "$dry_run" = 1 ]; then echo "setup: dry run, nothing was changed"; else echo "setup: done"; fi
