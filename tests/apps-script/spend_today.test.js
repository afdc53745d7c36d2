'use strict';
// assetgen > Spend today: the exact request for today's UTC totals object (a few KB, which
// `assetgen run` keeps current, never the day's whole ledger), and sums exact to the micro-dollar.

const test = require('node:test');
const assert = require('node:assert/strict');
const { load, plain, visibleText, FAKE_TOKEN } = require('./harness');

const AUTH = { Authorization: 'Bearer ya29.test-token-must-never-be-shown' };

function entry(fields) {
  return JSON.stringify(Object.assign({
    ts: 1795590000000, userId: 'ana@example.com', jobId: 'j1', prompt: 'product on clean bg #1', images: 1, cost: 0.039,
    v: 1, id: 'j1/S-1/v1', scene_id: 'S-1', variant: 1, model: 'gemini-2.5-flash-image', mode: 'live', status: 'ok',
    error_code: '', estimated: 0.039, shard: '',
  }, fields));
}

const LEDGER = [
  entry({ id: 'j1/S-1/v1', cost: 0.1 }),
  entry({ id: 'j1/S-1/v2', cost: 0.2, variant: 2 }),
  entry({ id: 'j1/S-2/v1', cost: 0.039, scene_id: 'S-2' }),
  entry({ id: 'j2/S-1/v1', userId: 'bob', mode: 'dry_run', cost: 0.039 }),
  entry({ id: 'j2/S-2/v1', userId: 'bob', mode: 'dry_run', cost: 0.039 }),
  // A line of the reference platform: six fields, no mode; it is money, so it counts as live.
  '{"ts":1795580000000,"userId":"carol","jobId":"old","prompt":"p","images":2,"cost":0.078}',
  // A refused request: a line, but no cost and no image.
  entry({ id: 'j1/S-3/v1', cost: 0, images: 0, status: 'BUDGET_EXCEEDED', error_code: 'BUDGET_EXCEEDED' }),
  'this line is damaged',
  '',
  // A writer is appending right now: the last line is not complete yet.
  '{"ts":1795590999000,"userId":"ana@example.com","cost":0.0',
].join('\n');

// What `assetgen run` keeps at <ledger>/totals/YYYY-MM-DD.json (README.md, Formats).
const TOTALS = JSON.stringify({
  v: 1, day: '2026-11-25', updated: '2026-11-25T07:00:00.000Z', entries: 7,
  users: {
    'ana@example.com': { live: { cost_micros: 339000, images: 3, requests: 4, updated: '2026-11-25T06:59:00.000Z' } },
    bob: { dry_run: { cost_micros: 78000, images: 2, requests: 2, updated: '2026-11-25T05:00:00.000Z' } },
    carol: { live: { cost_micros: 78000, images: 2, requests: 1, updated: '2026-11-25T04:00:00.000Z' } },
  },
}) + '\n';

test('spend today: GET today\'s totals object (not the ledger) and show the exact spend per user', () => {
  const env = load({ settings: { BUCKET: 'demo-bucket', DAILY_BUDGET_USD: '0.3' }, responses: [{ code: 200, body: TOTALS }] });
  env.gs.spendToday();
  assert.deepEqual(env.fetches, [{
    url: 'https://storage.googleapis.com/storage/v1/b/demo-bucket/o/ledger%2Ftotals%2F2026-11-25.json?alt=media',
    params: { method: 'get', headers: AUTH, muteHttpExceptions: true },
  }]);
  assert.deepEqual(env.ui.alerts, [{
    title: 'assetgen: spend today',
    prompt:
      'Spend on 2026-11-25 (UTC), from gs://demo-bucket/ledger/totals/2026-11-25.json\n' +
      'ana@example.com: $0.339000 live of $0.300000 (4 entries, 3 images) - budget reached\n' +
      'carol: $0.078000 live of $0.300000 (1 entry, 2 images)\n' +
      'bob: $0.000000 live of $0.300000, $0.078000 dry_run (2 entries, 2 images)\n' +
      'Total: $0.417000 live, $0.078000 dry_run',
    buttons: 'OK',
  }]);
  assert.ok(!visibleText(env).includes(FAKE_TOKEN));
});

test('spend today: the totals and the ledger they come from read alike', () => {
  const { gs } = load();
  const fromLedger = plain(gs.sumLedger_(LEDGER));
  const fromTotals = plain(gs.summaryFromTotals_(TOTALS, 'gs://b/ledger/totals/2026-11-25.json'));
  assert.deepEqual(fromTotals.users, fromLedger.users);
  assert.equal(fromTotals.entries, fromLedger.entries);
});

test('spend today: money held by pending batches is shown and counts against the budget', () => {
  const totals = JSON.stringify({
    v: 1, day: '2026-11-25', updated: '2026-11-25T07:00:00.000Z', entries: 3,
    users: {
      'ana@example.com': { live: { cost_micros: 100000, images: 1, requests: 2, reserved_pending_micros: 250000, updated: '2026-11-25T06:59:00.000Z' } },
      bob: { live: { cost_micros: 50000, images: 1, requests: 1, reserved_pending_micros: 0, updated: '2026-11-25T05:00:00.000Z' } },
    },
  });
  const env = load({ settings: { BUCKET: 'demo-bucket', DAILY_BUDGET_USD: '0.3' }, responses: [{ code: 200, body: totals }] });
  env.gs.spendToday();
  assert.equal(env.ui.alerts[0].prompt,
    'Spend on 2026-11-25 (UTC), from gs://demo-bucket/ledger/totals/2026-11-25.json\n' +
    'ana@example.com: $0.100000 live of $0.300000 + $0.250000 reserved by pending batches (2 entries, 1 image) - budget reached\n' +
    'bob: $0.050000 live of $0.300000 (1 entry, 1 image)\n' +
    'Total: $0.150000 live, $0.000000 dry_run, $0.250000 reserved by pending batches');
});

test('spend today: a damaged totals object is an error naming it', () => {
  const env = load({ settings: { BUCKET: 'demo-bucket' }, responses: [{ code: 200, body: '{"v":2}' }] });
  env.gs.spendToday();
  assert.equal(env.ui.alerts[0].prompt, 'gs://demo-bucket/ledger/totals/2026-11-25.json: not a day totals object of version 1');
});

test('spend today: the sum is in integer micro-dollars, not floating point', () => {
  const { gs } = load();
  // 0.1 + 0.2 is 0.30000000000000004 in binary floating point; the ledger sum is exact.
  assert.notEqual(0.1 + 0.2, 0.3);
  const lines = [];
  for (let i = 0; i < 3000; i++) {
    lines.push(entry({ id: 'j/' + i, cost: [0.1, 0.2, 0.039][i % 3] }));
  }
  const summary = plain(gs.sumLedger_(lines.join('\n') + '\n'));
  assert.equal(summary.users['ana@example.com'].live, 339000000);
  assert.equal(summary.entries, 3000);
  assert.equal(summary.torn, false);
  assert.equal(summary.bad, 0);
  // Half a micro-dollar rounds up by the decimal digits; multiplying the double would not.
  assert.equal(Math.round(1.0000025 * 1e6), 1000002);
  assert.equal(gs.decimalToMicros_(1.0000025), 1000003);
});

test('spend today: no totals object yet today means nothing spent', () => {
  const env = load({
    settings: { BUCKET: 'demo-bucket', LEDGER_PREFIX: 'costs/ledger' },
    responses: [{ code: 404, body: { error: { code: 404, message: 'No such object: demo-bucket/costs/ledger/totals/2026-11-25.json' } } }],
  });
  env.gs.spendToday();
  assert.equal(env.fetches[0].url, 'https://storage.googleapis.com/storage/v1/b/demo-bucket/o/costs%2Fledger%2Ftotals%2F2026-11-25.json?alt=media');
  assert.equal(env.ui.alerts[0].prompt,
    'Spend on 2026-11-25 (UTC), from gs://demo-bucket/costs/ledger/totals/2026-11-25.json\n' +
    'No spend recorded yet today.\n' +
    'Total: $0.000000 live, $0.000000 dry_run');
});

test('spend today: other HTTP errors and a missing bucket are shown, not hidden', () => {
  let env = load({ settings: { BUCKET: 'demo-bucket' }, responses: [{ code: 403, body: { error: { code: 403, message: 'Access denied.' } } }] });
  env.gs.spendToday();
  assert.equal(env.ui.alerts[0].prompt, 'ledger totals gs://demo-bucket/ledger/totals/2026-11-25.json: HTTP 403: Access denied.');
  env = load({ responses: [] });
  env.gs.spendToday();
  assert.deepEqual(env.fetches, []);
  assert.equal(env.ui.alerts[0].prompt, 'BUCKET is not set (assetgen > Settings)');
});
