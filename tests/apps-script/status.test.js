'use strict';
// assetgen > Check status: the exact builds.get request and what the user is told.

const test = require('node:test');
const assert = require('node:assert/strict');
const { load, visibleText, FAKE_TOKEN } = require('./harness');

const BUILD_ID = 'b1d2c3e4-0000-4000-8000-000000000001';
const AUTH = { Authorization: 'Bearer ya29.test-token-must-never-be-shown' };

function lastRun(region) {
  return JSON.stringify({
    buildId: BUILD_ID,
    project: 'demo-project',
    region,
    bucket: 'demo-bucket',
    batchUri: 'gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv',
    resultsObject: 'results/Spring_Launch_2-20261125-070809.csv',
    resultsUri: 'gs://demo-bucket/results/Spring_Launch_2-20261125-070809.csv',
    rows: 2,
    mode: 'dry_run',
    user: 'ana@example.com',
    sheet: 'Spring Launch #2',
  });
}

test('check status (global): GET projects.builds.get and a summary with the next step', () => {
  const env = load({
    // Settings changed since the run must not matter: the run remembers its project and region.
    settings: { PROJECT: 'other-project', REGION: 'europe-west4' },
    document: { 'assetgen.lastRun': lastRun('global') },
    responses: [{
      code: 200,
      body: {
        id: BUILD_ID, status: 'SUCCESS', startTime: '2026-11-25T07:08:30.123Z', finishTime: '2026-11-25T07:10:02.456Z',
        logUrl: 'https://console.cloud.google.com/cloud-build/builds/' + BUILD_ID + '?project=123456789',
      },
    }],
  });
  env.gs.checkStatus();
  assert.deepEqual(env.fetches, [{
    url: 'https://cloudbuild.googleapis.com/v1/projects/demo-project/builds/b1d2c3e4-0000-4000-8000-000000000001',
    params: { method: 'get', headers: AUTH, muteHttpExceptions: true },
  }]);
  assert.deepEqual(env.ui.alerts, [{
    title: 'assetgen: build status',
    prompt:
      'Build b1d2c3e4-0000-4000-8000-000000000001: SUCCESS\n' +
      'Batch: gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv (2 rows, dry_run)\n' +
      'Started: 2026-11-25T07:08:30.123Z\n' +
      'Finished: 2026-11-25T07:10:02.456Z\n' +
      'Logs: https://console.cloud.google.com/cloud-build/builds/b1d2c3e4-0000-4000-8000-000000000001?project=123456789\n' +
      'Next: assetgen > Import results (gs://demo-bucket/results/Spring_Launch_2-20261125-070809.csv)',
    buttons: 'OK',
  }]);
});

test('check status (regional): GET projects.locations.builds.get; a failure shows its detail', () => {
  const env = load({
    document: { 'assetgen.lastRun': lastRun('europe-west1') },
    responses: [{
      code: 200,
      body: {
        id: BUILD_ID, status: 'FAILURE', startTime: '2026-11-25T07:08:30Z', finishTime: '2026-11-25T07:09:00Z',
        failureInfo: { type: 'USER_BUILD_STEP', detail: 'Build step failure: build step 1 "batch" failed: step exited with non-zero status: 3' },
      },
    }],
  });
  env.gs.checkStatus();
  assert.deepEqual(env.fetches, [{
    url: 'https://cloudbuild.googleapis.com/v1/projects/demo-project/locations/europe-west1/builds/b1d2c3e4-0000-4000-8000-000000000001',
    params: { method: 'get', headers: AUTH, muteHttpExceptions: true },
  }]);
  assert.equal(env.ui.alerts[0].prompt,
    'Build b1d2c3e4-0000-4000-8000-000000000001: FAILURE\n' +
    'Batch: gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv (2 rows, dry_run)\n' +
    'Started: 2026-11-25T07:08:30Z\n' +
    'Finished: 2026-11-25T07:09:00Z\n' +
    'Detail: Build step failure: build step 1 "batch" failed: step exited with non-zero status: 3');
});

test('check status: a running build says so', () => {
  const env = load({ document: { 'assetgen.lastRun': lastRun('global') }, responses: [{ code: 200, body: { id: BUILD_ID, status: 'WORKING' } }] });
  env.gs.checkStatus();
  assert.equal(env.ui.alerts[0].prompt,
    'Build b1d2c3e4-0000-4000-8000-000000000001: WORKING\n' +
    'Batch: gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv (2 rows, dry_run)\n' +
    'Still running: check again in a minute.');
});

test('check status: without a run there is nothing to ask; HTTP errors carry Google\'s message', () => {
  let env = load({ responses: [] });
  env.gs.checkStatus();
  assert.deepEqual(env.fetches, []);
  assert.equal(env.ui.alerts[0].prompt, 'no batch was started from this spreadsheet yet: use assetgen > Run batch first');

  env = load({
    document: { 'assetgen.lastRun': lastRun('global') },
    responses: [{ code: 403, body: { error: { code: 403, message: "The caller does not have permission", status: 'PERMISSION_DENIED' } } }],
  });
  env.gs.checkStatus();
  assert.equal(env.ui.alerts[0].prompt, 'build b1d2c3e4-0000-4000-8000-000000000001: HTTP 403: The caller does not have permission');
  assert.ok(!visibleText(env).includes(FAKE_TOKEN));
});
