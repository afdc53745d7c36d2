'use strict';
// assetgen > Run batch: the exact upload and Cloud Build requests, golden values written out
// by hand. Any change to a URL, method, header or body must show up here.

const test = require('node:test');
const assert = require('node:assert/strict');
const { load, visibleText, plain, FAKE_TOKEN } = require('./harness');

const TRIGGER = '0f5c2a7e-1b2c-4d3e-9f00-123456789abc';
const BUILD_ID = 'b1d2c3e4-0000-4000-8000-000000000001';
const SHEET_NAME = 'Spring Launch #2';
const SHEET = [
  ['scene_id', 'prompt', 'variants'],
  ['S-1', 'a chair, "oak"', 2],
  ['S-2', 'lamp\non desk', 1],
];
const CSV = 'scene_id,prompt,variants\r\nS-1,"a chair, ""oak""",2\r\nS-2,"lamp\non desk",1\r\n';
const BASE = 'Spring_Launch_2-20261125-070809'; // sheet name made safe + the UTC time of the run
const AUTH = { Authorization: 'Bearer ya29.test-token-must-never-be-shown' };

const UPLOAD = {
  url: 'https://storage.googleapis.com/upload/storage/v1/b/demo-bucket/o?uploadType=media' +
    '&name=batches%2FSpring_Launch_2-20261125-070809.csv&ifGenerationMatch=0',
  params: { method: 'post', contentType: 'text/csv; charset=utf-8', payload: CSV, headers: AUTH, muteHttpExceptions: true },
};
const UPLOADED = { code: 200, body: { kind: 'storage#object', bucket: 'demo-bucket', name: 'batches/' + BASE + '.csv', generation: '1795590489000000' } };
const OPERATION = {
  code: 200,
  body: {
    name: 'projects/demo-project/operations/b3BlcmF0aW9u',
    metadata: { '@type': 'type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata', build: { id: BUILD_ID, status: 'QUEUED' } },
  },
};

function run(settings, extra) {
  const env = load(Object.assign({ settings, sheets: { [SHEET_NAME]: SHEET } }, extra));
  env.gs.runBatch();
  return env;
}

test('run batch (global trigger): uploads the sheet as CSV, runs the trigger, remembers the build', () => {
  const env = run({ BUCKET: 'demo-bucket', PROJECT: 'demo-project', TRIGGER_ID: TRIGGER }, { responses: [UPLOADED, OPERATION] });
  assert.deepEqual(env.ui.alerts, []);
  assert.equal(env.fetches.length, 2);
  assert.deepEqual(env.fetches[0], UPLOAD);
  assert.deepEqual(env.fetches[1], {
    url: 'https://cloudbuild.googleapis.com/v1/projects/demo-project/triggers/0f5c2a7e-1b2c-4d3e-9f00-123456789abc:run',
    params: {
      method: 'post',
      contentType: 'application/json',
      payload:
        '{"substitutions":{' +
        '"_BUCKET":"demo-bucket",' +
        '"_BATCH_URI":"gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv",' +
        '"_MODE":"dry_run",' +
        '"_OUT":"gs://demo-bucket/assets",' +
        '"_LEDGER":"gs://demo-bucket/ledger",' +
        '"_RESULTS":"gs://demo-bucket/results/Spring_Launch_2-20261125-070809.csv",' +
        '"_DAILY_BUDGET_USD":"10",' +
        '"_USER":"ana@example.com",' +
        '"_BUILD_IMAGE":"false",' +
        '"_SIGN_URLS":"7d"}}',
      headers: AUTH,
      muteHttpExceptions: true,
    },
  });
  assert.deepEqual(JSON.parse(env.documentProps.store['assetgen.lastRun']), {
    buildId: BUILD_ID,
    project: 'demo-project',
    region: 'global',
    bucket: 'demo-bucket',
    batchUri: 'gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv',
    resultsObject: 'results/Spring_Launch_2-20261125-070809.csv',
    resultsUri: 'gs://demo-bucket/results/Spring_Launch_2-20261125-070809.csv',
    rows: 2,
    mode: 'dry_run',
    user: 'ana@example.com',
    sheet: SHEET_NAME,
  });
  assert.deepEqual(env.toasts, [{
    message: 'Build ' + BUILD_ID + ' started: 2 rows, dry_run. assetgen > Check status tells when it is done.',
    title: 'assetgen',
    seconds: 10,
  }]);
  assert.ok(!visibleText(env).includes(FAKE_TOKEN));
});

test('run batch (regional trigger, live): asks first, then wraps the source as {projectId, triggerId, source}', () => {
  const env = run({
    BUCKET: 'demo-bucket', PROJECT: 'demo-project', TRIGGER_ID: TRIGGER, REGION: 'us-central1', BRANCH: 'main',
    MODE: 'live', DAILY_BUDGET_USD: '2.5', USER: 'team-a', BUILD_IMAGE: 'true',
  }, { responses: [UPLOADED, OPERATION], answers: { alert: ['YES'] } });
  assert.deepEqual(env.ui.alerts, [{
    title: 'assetgen: Run batch',
    prompt: 'Generate images for 2 rows of "Spring Launch #2" LIVE, spending up to $2.5 a day?',
    buttons: 'YES_NO',
  }]);
  assert.equal(env.fetches.length, 2);
  assert.deepEqual(env.fetches[0], UPLOAD);
  assert.deepEqual(env.fetches[1], {
    url: 'https://cloudbuild.googleapis.com/v1/projects/demo-project/locations/us-central1/triggers/0f5c2a7e-1b2c-4d3e-9f00-123456789abc:run',
    params: {
      method: 'post',
      contentType: 'application/json',
      payload:
        '{"projectId":"demo-project","triggerId":"0f5c2a7e-1b2c-4d3e-9f00-123456789abc","source":{"substitutions":{' +
        '"_BUCKET":"demo-bucket",' +
        '"_BATCH_URI":"gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv",' +
        '"_MODE":"live",' +
        '"_OUT":"gs://demo-bucket/assets",' +
        '"_LEDGER":"gs://demo-bucket/ledger",' +
        '"_RESULTS":"gs://demo-bucket/results/Spring_Launch_2-20261125-070809.csv",' +
        '"_DAILY_BUDGET_USD":"2.5",' +
        '"_USER":"team-a",' +
        '"_BUILD_IMAGE":"true",' +
        '"_SIGN_URLS":"7d"},' +
        '"branchName":"main"}}',
      headers: AUTH,
      muteHttpExceptions: true,
    },
  });
  const last = JSON.parse(env.documentProps.store['assetgen.lastRun']);
  assert.equal(last.region, 'us-central1');
  assert.equal(last.mode, 'live');
  assert.equal(last.user, 'team-a');
});

test('run batch (live): answering No sends nothing and remembers nothing', () => {
  const env = run({ BUCKET: 'demo-bucket', PROJECT: 'demo-project', TRIGGER_ID: TRIGGER, MODE: 'live' },
    { responses: [], answers: { alert: ['NO'] } });
  assert.equal(env.ui.alerts.length, 1);
  assert.deepEqual(env.fetches, []);
  assert.deepEqual(env.documentProps.store, {});
});

test('run batch (inline build, live, Gemini API): builds.create with the API key secret and the service account', () => {
  const env = run({
    BUCKET: 'demo-bucket', PROJECT: 'demo-project', REGION: 'us-central1', MODE: 'live',
    IMAGE: 'us-central1-docker.pkg.dev/demo-project/assetgen/assetgen:latest',
    SERVICE_ACCOUNT: 'assetgen-builder@demo-project.iam.gserviceaccount.com',
  }, { responses: [UPLOADED, OPERATION], answers: { alert: ['YES'] } });
  assert.equal(env.fetches.length, 2);
  assert.deepEqual(env.fetches[0], UPLOAD);
  assert.deepEqual(env.fetches[1], {
    url: 'https://cloudbuild.googleapis.com/v1/projects/demo-project/locations/us-central1/builds',
    params: {
      method: 'post',
      contentType: 'application/json',
      payload:
        '{"steps":[{"id":"batch","name":"us-central1-docker.pkg.dev/demo-project/assetgen/assetgen:latest",' +
        '"args":["run","gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv","--mode","live",' +
        '"--out","gs://demo-bucket/assets","--ledger","gs://demo-bucket/ledger",' +
        '"--results","gs://demo-bucket/results/Spring_Launch_2-20261125-070809.csv",' +
        '"--daily-budget-usd","10","--user","ana@example.com","--sign-urls","7d","--quiet"],' +
        '"allowExitCodes":[1],"secretEnv":["GEMINI_API_KEY"]}],' +
        '"timeout":"3600s","options":{"logging":"CLOUD_LOGGING_ONLY"},"tags":["assetgen"],' +
        '"availableSecrets":{"secretManager":[{"versionName":"projects/demo-project/secrets/gemini-api-key/versions/1","env":"GEMINI_API_KEY"}]},' +
        '"serviceAccount":"projects/demo-project/serviceAccounts/assetgen-builder@demo-project.iam.gserviceaccount.com"}',
      headers: AUTH,
      muteHttpExceptions: true,
    },
  });
  assert.equal(JSON.parse(env.documentProps.store['assetgen.lastRun']).buildId, BUILD_ID);
});

test('run batch (inline build, Vertex AI, global): no secret, --api vertex with the project', () => {
  const env = run({
    BUCKET: 'demo-bucket', PROJECT: 'demo-project', API: 'vertex',
    IMAGE: 'us-central1-docker.pkg.dev/demo-project/assetgen/assetgen@sha256:' + 'ab'.repeat(32),
  }, { responses: [UPLOADED, OPERATION] });
  assert.equal(env.fetches.length, 2);
  assert.deepEqual(env.fetches[1], {
    url: 'https://cloudbuild.googleapis.com/v1/projects/demo-project/builds',
    params: {
      method: 'post',
      contentType: 'application/json',
      payload:
        '{"steps":[{"id":"batch","name":"us-central1-docker.pkg.dev/demo-project/assetgen/assetgen@sha256:' + 'ab'.repeat(32) + '",' +
        '"args":["run","gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv","--mode","dry_run",' +
        '"--out","gs://demo-bucket/assets","--ledger","gs://demo-bucket/ledger",' +
        '"--results","gs://demo-bucket/results/Spring_Launch_2-20261125-070809.csv",' +
        '"--daily-budget-usd","10","--user","ana@example.com",' +
        '"--api","vertex","--project","demo-project","--location","global","--sign-urls","7d","--quiet"],' +
        '"allowExitCodes":[1]}],' +
        '"timeout":"3600s","options":{"logging":"CLOUD_LOGGING_ONLY"},"tags":["assetgen"]}',
      headers: AUTH,
      muteHttpExceptions: true,
    },
  });
});

test('run batch: an HTTP error stops the run and shows Google\'s message, never the token', () => {
  const denied = {
    code: 403,
    body: { error: { code: 403, message: 'ana@example.com does not have storage.objects.create access to the Google Cloud Storage object.', errors: [{ reason: 'forbidden' }] } },
  };
  const env = run({ BUCKET: 'demo-bucket', PROJECT: 'demo-project', TRIGGER_ID: TRIGGER }, { responses: [denied] });
  assert.equal(env.fetches.length, 1);
  assert.deepEqual(env.ui.alerts, [{
    title: 'assetgen: Run batch',
    prompt: 'upload gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv: HTTP 403: ' +
      'ana@example.com does not have storage.objects.create access to the Google Cloud Storage object.',
    buttons: 'OK',
  }]);
  assert.deepEqual(env.documentProps.store, {});
  assert.ok(!visibleText(env).includes(FAKE_TOKEN));
});

test('run batch: a failed trigger call shows the status and a plain-text body', () => {
  const env = run({ BUCKET: 'demo-bucket', PROJECT: 'demo-project', TRIGGER_ID: TRIGGER },
    { responses: [UPLOADED, { code: 404, body: 'Not Found' }] });
  assert.equal(env.fetches.length, 2);
  assert.equal(plain(env.ui.alerts)[0].prompt, 'start Cloud Build: HTTP 404: Not Found');
  assert.deepEqual(env.documentProps.store, {});
});

test('run batch: missing settings, no trigger or image, and an empty sheet are reported before any request', () => {
  let env = run({}, { responses: [] });
  assert.equal(env.ui.alerts[0].prompt, 'BUCKET is not set (assetgen > Settings)\nPROJECT is not set (assetgen > Settings)');
  env = run({ BUCKET: 'demo-bucket', PROJECT: 'demo-project' }, { responses: [] });
  assert.match(env.ui.alerts[0].prompt, /^set TRIGGER_ID .* or IMAGE /);
  env = run({ BUCKET: 'demo-bucket', PROJECT: 'demo-project', TRIGGER_ID: TRIGGER, MODE: 'fast' }, { responses: [] });
  assert.equal(env.ui.alerts[0].prompt, 'MODE: "fast" is not valid');
  env = load({ settings: { BUCKET: 'demo-bucket', PROJECT: 'demo-project', TRIGGER_ID: TRIGGER }, sheets: { [SHEET_NAME]: [SHEET[0]] } });
  env.gs.runBatch();
  assert.equal(env.ui.alerts[0].prompt, 'sheet "Spring Launch #2" has a header but no rows');
  assert.deepEqual(env.fetches, []);
});
