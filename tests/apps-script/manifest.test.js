'use strict';
// The manifest (scopes, URL allowlist), the menu, the Settings item, and the contract with
// samples/cloud/cloudbuild*.yaml: every substitution the sheet sends is declared there.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { load, plain, readManifest, ROOT } = require('./harness');

test('manifest: V8, exactly the OAuth scopes the script needs, and fetches limited to two hosts', () => {
  const m = readManifest();
  assert.equal(m.runtimeVersion, 'V8');
  assert.deepEqual(m.oauthScopes, [
    'https://www.googleapis.com/auth/spreadsheets.currentonly', // the bound spreadsheet only
    'https://www.googleapis.com/auth/script.external_request', // UrlFetchApp
    'https://www.googleapis.com/auth/devstorage.read_write', // batches up, results and ledger down
    'https://www.googleapis.com/auth/cloud-platform', // Cloud Build triggers.run / builds.create / builds.get
    'https://www.googleapis.com/auth/userinfo.email', // Session.getActiveUser().getEmail() for --user
  ]);
  assert.deepEqual(m.urlFetchWhitelist, ['https://storage.googleapis.com/', 'https://cloudbuild.googleapis.com/']);
});

test('menu: onOpen adds the assetgen menu, and every item names a function of Code.gs', () => {
  const env = load();
  env.gs.onOpen();
  assert.deepEqual(plain(env.ui.menus), [{
    caption: 'assetgen',
    items: [
      ['Run batch', 'runBatch'],
      ['Check status', 'checkStatus'],
      ['Import results', 'importResults'],
      ['Spend today', 'spendToday'],
      ['-', null],
      ['Settings', 'showSettings'],
    ],
  }]);
  for (const [, fn] of env.ui.menus[0].items) {
    if (fn) {
      assert.equal(typeof env.gs[fn], 'function', fn);
    }
  }
});

test('settings: the prompt saves valid changes and restores defaults; invalid input saves nothing', () => {
  let env = load({
    settings: { BUCKET: 'old-bucket', TRIGGER_ID: 'abc' },
    answers: { prompt: [{ button: 'OK', text: 'bucket=demo-bucket PROJECT=demo-project TRIGGER_ID= mode=live' }] },
  });
  env.gs.showSettings();
  assert.match(env.ui.prompts[0].prompt, /^BUCKET = old-bucket\nPROJECT = \(not set\)\nREGION = global \(default\)\n/);
  assert.deepEqual(env.scriptProps.store, { BUCKET: 'demo-bucket', PROJECT: 'demo-project', MODE: 'live' });
  assert.match(env.ui.alerts[0].prompt, /^Saved\.\n\nBUCKET = demo-bucket\nPROJECT = demo-project\n/);

  env = load({ settings: { BUCKET: 'old-bucket' }, answers: { prompt: [{ button: 'OK', text: 'BUCKET=demo-bucket MODE=sometimes' }] } });
  env.gs.showSettings();
  assert.deepEqual(env.scriptProps.store, { BUCKET: 'old-bucket' });
  assert.equal(env.ui.alerts[0].prompt, 'MODE: "sometimes" is not valid');

  env = load({ settings: { BUCKET: 'old-bucket' }, answers: { prompt: [{ button: 'CANCEL', text: 'BUCKET=x' }] } });
  env.gs.showSettings();
  assert.deepEqual(env.scriptProps.store, { BUCKET: 'old-bucket' });
  assert.deepEqual(env.ui.alerts, []);
});

// The keys of the top-level "substitutions:" block of a Cloud Build config (two-space indent).
function declaredSubstitutions(file) {
  const text = fs.readFileSync(path.join(ROOT, 'samples', 'cloud', file), 'utf8');
  const block = /^substitutions:\n((?:[ ]{2}.*\n|\s*\n)+)/m.exec(text);
  assert.ok(block, file + ' has a substitutions block');
  return block[1].split('\n').map((l) => /^ {2}(_[A-Z0-9_]+):/.exec(l)).filter(Boolean).map((m) => m[1]);
}

test('contract: every substitution Run batch sends is declared in cloudbuild.yaml and cloudbuild-vertex.yaml', () => {
  const { gs } = load();
  const settings = gs.mergeSettings_({ BUCKET: 'demo-bucket', PROJECT: 'demo-project' });
  const sent = Object.keys(plain(gs.triggerSubstitutions_(settings, gs.batchNames_(settings, 'S', new Date()), 'u')));
  assert.ok(sent.length >= 8);
  for (const file of ['cloudbuild.yaml', 'cloudbuild-vertex.yaml']) {
    const declared = declaredSubstitutions(file);
    for (const key of sent) {
      assert.ok(declared.includes(key), key + ' is declared in ' + file + ' (declared: ' + declared.join(' ') + ')');
    }
  }
});
