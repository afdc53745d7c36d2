'use strict';
// The sheet's Cloud Build request bodies conform to the Cloud Build v1 REST schema
// (build_schema.js), not only to the golden strings of run_batch.test.js: an inline build for
// every API and mode, and the trigger bodies of the global and regional endpoints.

const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./harness');
const { check, BUILD, REPO_SOURCE, RUN_TRIGGER_REQUEST } = require('./build_schema');

const SHEET = [['scene_id', 'prompt'], ['S-1', 'a chair']];
const UPLOADED = { code: 200, body: { kind: 'storage#object', name: 'batches/x.csv', generation: '1' } };
const OPERATION = { code: 200, body: { name: 'projects/p/operations/o', metadata: { build: { id: 'b-1', status: 'QUEUED' } } } };

function body(settings) {
  const env = load({ settings, sheets: { S: SHEET }, responses: [UPLOADED, OPERATION], answers: { alert: ['YES'] } });
  env.gs.runBatch();
  assert.equal(env.fetches.length, 2, JSON.stringify(env.ui.alerts));
  return { url: env.fetches[1].url, body: JSON.parse(env.fetches[1].params.payload) };
}

const BASE = { BUCKET: 'demo-bucket', PROJECT: 'demo-project', IMAGE: 'us-central1-docker.pkg.dev/demo-project/assetgen/assetgen:latest' };

test('cloud build schema: every inline build the sheet can send is a valid v1 Build', () => {
  for (const extra of [
    { MODE: 'live' }, { MODE: 'dry_run' }, { API: 'vertex' }, { API: 'vertex', MODE: 'live', REGION: 'us-central1' },
    { MODE: 'live', SERVICE_ACCOUNT: 'assetgen-builder@demo-project.iam.gserviceaccount.com', SIGN_URLS: 'off' },
  ]) {
    const sent = body(Object.assign({}, BASE, extra));
    assert.match(sent.url, /\/builds$/);
    assert.deepEqual(check(sent.body, BUILD), [], JSON.stringify(extra));
    const args = sent.body.steps[0].args;
    assert.equal(args.includes('--sign-urls'), extra.SIGN_URLS !== 'off', JSON.stringify(extra));
  }
});

test('cloud build schema: trigger bodies are a RepoSource (global) or a RunBuildTriggerRequest (regional)', () => {
  const trigger = { TRIGGER_ID: '0f5c2a7e-1b2c-4d3e-9f00-123456789abc', BRANCH: 'main' };
  const global = body(Object.assign({}, BASE, trigger));
  assert.match(global.url, /\/projects\/demo-project\/triggers\/[^/]+:run$/);
  assert.deepEqual(check(global.body, REPO_SOURCE), []);
  assert.equal(global.body.substitutions._SIGN_URLS, '7d');
  const regional = body(Object.assign({}, BASE, trigger, { REGION: 'us-central1' }));
  assert.deepEqual(check(regional.body, RUN_TRIGGER_REQUEST), []);
});

test('cloud build schema: the checker finds a misspelled field, a bad enum, a bad type and an output-only field', () => {
  const build = {
    steps: [{ name: 'img', args: ['run'], allowExitCode: [1] }],
    options: { logging: 'CLOUD_LOGGING' }, timeout: 3600, status: 'QUEUED',
    availableSecrets: { secretManager: [{ versionName: 'gemini-api-key', env: 'K' }] },
  };
  assert.deepEqual(check(build, BUILD), [
    '$.steps[0]: unknown field "allowExitCode"',
    '$.options.logging: "CLOUD_LOGGING" is not one of LOGGING_UNSPECIFIED, LEGACY, GCS_ONLY, STACKDRIVER_ONLY, CLOUD_LOGGING_ONLY, NONE',
    '$.timeout: expected string, got integer',
    '$: unknown field "status"',
    '$.availableSecrets.secretManager[0].versionName: "gemini-api-key" does not match /^projects\\/[^/]+\\/secrets\\/[^/]+\\/versions\\/[^/]+$/',
  ]);
  assert.deepEqual(check({ substitutions: { BATCH: 'x' } }, REPO_SOURCE), ['$.substitutions: key "BATCH" does not match /^_[A-Z0-9_]+$/']);
});
