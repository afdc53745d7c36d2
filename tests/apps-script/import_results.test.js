'use strict';
// assetgen > Import results: the exact download request and every cell written to "Results":
// text stays text (a formula in the file never becomes a formula in the sheet), costs are
// numbers with an exact total, and thumbnails are =IMAGE formulas with quotes escaped.

const test = require('node:test');
const assert = require('node:assert/strict');
const { load, plain } = require('./harness');

const BUILD_ID = 'b1d2c3e4-0000-4000-8000-000000000001';
const LAST_RUN = JSON.stringify({
  buildId: BUILD_ID,
  project: 'demo-project',
  region: 'global',
  bucket: 'demo-bucket',
  batchUri: 'gs://demo-bucket/batches/Spring_Launch_2-20261125-070809.csv',
  resultsObject: 'results/Spring_Launch_2-20261125-070809.csv',
  resultsUri: 'gs://demo-bucket/results/Spring_Launch_2-20261125-070809.csv',
  rows: 5,
  mode: 'live',
  user: 'ana@example.com',
  sheet: 'Spring Launch #2',
});
const SIGNED_1 = 'https://storage.googleapis.com/demo-bucket/assets/j1/S-1/S-1_v1.png?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=ab12';
const SIGNED_2 = 'https://storage.googleapis.com/demo-bucket/assets/j1/S-1/S-1_v2.png?X-Goog-Signature=cd34';

// As `assetgen run --results` writes it: LF line ends, RFC 4180 quoting, formula-looking cells
// escaped with an apostrophe (row 3). Row 4 was edited by hand and is not escaped at all.
const RESULTS_CSV =
  'scene_id,prompt,variants,status,images,cost_usd,error_code,error\n' +
  'S-1,"a chair, ""oak""",2,ok,' + SIGNED_1 + ' ' + SIGNED_2 + ',0.078000,,\n' +
  'S-2,"lamp\non desk",1,ok,gs://demo-bucket/assets/j1/S-2/S-2_v1.png,0.039000,,\n' +
  '"\'=HYPERLINK(""http://evil.example"",""click"")",x,1,blocked,,0.000000,BLOCKED,\'=cmd|\' /C calc\'!A0\n' +
  '"=HYPERLINK(""http://evil.example"",""raw"")",y,1,failed,,0.000000,MODEL_ERROR,@SUM(1+1)\n' +
  'S-5,z,1,ok,"https://example.com/a""b.png",0.1,,\n' +
  ',,,,,,,\n';

const EXPECTED = [
  ["'scene_id", "'prompt", "'variants", "'status", "'images", "'cost_usd", "'error_code", "'error", 'preview'],
  ["'S-1", "'a chair, \"oak\"", "'2", "'ok", "'" + SIGNED_1 + ' ' + SIGNED_2, 0.078, '', '', '=IMAGE("' + SIGNED_1 + '")'],
  ["'S-2", "'lamp\non desk", "'1", "'ok", "'gs://demo-bucket/assets/j1/S-2/S-2_v1.png", 0.039, '', '',
    '=HYPERLINK("https://storage.cloud.google.com/demo-bucket/assets/j1/S-2/S-2_v1.png","open")'],
  ["'=HYPERLINK(\"http://evil.example\",\"click\")", "'x", "'1", "'blocked", '', 0, "'BLOCKED", "'=cmd|' /C calc'!A0", ''],
  ["'=HYPERLINK(\"http://evil.example\",\"raw\")", "'y", "'1", "'failed", '', 0, "'MODEL_ERROR", "'@SUM(1+1)", ''],
  ["'S-5", "'z", "'1", "'ok", "'https://example.com/a\"b.png", 0.1, '', '', '=IMAGE("https://example.com/a""b.png")'],
  ["'total", '', '', '', '', 0.217, '', '', ''],
];

test('import results: GET the results object with alt=media', () => {
  const env = load({ document: { 'assetgen.lastRun': LAST_RUN }, responses: [{ code: 200, body: RESULTS_CSV }] });
  env.gs.importResults();
  assert.deepEqual(env.fetches, [{
    url: 'https://storage.googleapis.com/storage/v1/b/demo-bucket/o/results%2FSpring_Launch_2-20261125-070809.csv?alt=media',
    params: { method: 'get', headers: { Authorization: 'Bearer ya29.test-token-must-never-be-shown' }, muteHttpExceptions: true },
  }]);
});

test('import results: writes text as text, costs as numbers, =IMAGE thumbnails and the total', () => {
  const env = load({ document: { 'assetgen.lastRun': LAST_RUN }, responses: [{ code: 200, body: RESULTS_CSV }] });
  env.gs.importResults();
  assert.deepEqual(env.ui.alerts, []);
  const sheet = env.sheets.Results;
  assert.ok(sheet, 'a "Results" sheet is created');
  assert.deepEqual(sheet.calls, [
    { op: 'clear' },
    { op: 'setValues', row: 1, col: 1, values: EXPECTED },
    { op: 'setNumberFormat', row: 2, col: 6, numRows: 6, numCols: 1, format: '0.000000' },
    { op: 'setFrozenRows', rows: 1 },
  ]);
  assert.deepEqual(env.toasts, [{ message: 'Imported 5 rows (blocked 1, failed 1, ok 3), cost $0.217000.', title: 'assetgen', seconds: 10 }]);
});

test('import results: no cell from the file can become a formula', () => {
  const env = load({ document: { 'assetgen.lastRun': LAST_RUN }, responses: [{ code: 200, body: RESULTS_CSV }] });
  env.gs.importResults();
  const values = env.sheets.Results.calls.find((c) => c.op === 'setValues').values;
  const previewColumn = values[0].length - 1;
  values.forEach((row, r) => row.forEach((cell, c) => {
    if (typeof cell !== 'string' || cell === '' || (r === 0 && c === previewColumn)) {
      return;
    }
    if (c === previewColumn) {
      assert.match(cell, /^=(IMAGE\("https:\/\/[^"]*(""[^"]*)*"\)|HYPERLINK\("https:\/\/storage\.cloud\.google\.com\/[^"]*","open"\))$/,
        'preview cell ' + (r + 1) + ' is one of our two formulas');
    } else {
      assert.equal(cell.charAt(0), "'", 'cell ' + (r + 1) + ':' + (c + 1) + ' is marked as text: ' + cell);
    }
  }));
});

test('import results: an existing Results sheet is cleared and reused', () => {
  const env = load({
    document: { 'assetgen.lastRun': LAST_RUN },
    sheets: { Batch: [['scene_id']], Results: [['stale', 'stale', 'stale', 'stale', 'stale', 'stale', 'stale', 'stale', 'stale', 'stale']] },
    responses: [{ code: 200, body: RESULTS_CSV }],
  });
  env.gs.importResults();
  assert.deepEqual(env.sheets.Results.grid, EXPECTED);
});

test('import results: the pure table builder sums exactly and keeps unknown columns', () => {
  const { gs } = load();
  const rows = [['scene_id', 'status', 'cost_usd']];
  for (let i = 0; i < 1000; i++) {
    rows.push(['s' + i, 'ok', '0.000001']);
  }
  rows.push(['big', 'ok', '0.1']);
  rows.push(['bigger', 'ok', '0.2']);
  const table = plain(gs.resultsTable_(rows));
  assert.equal(table.totalMicros, 301000);
  assert.equal(table.values[table.values.length - 1][2], 0.301);
  assert.equal(table.width, 4);
  assert.equal(table.costColumn, 3);
  assert.equal(table.rows, 1002);
});

test('import results: before the results exist, and for a file that is not a results file', () => {
  let env = load({ document: { 'assetgen.lastRun': LAST_RUN }, responses: [{ code: 404, body: { error: { code: 404, message: 'No such object: demo-bucket/results/x.csv' } } }] });
  env.gs.importResults();
  assert.equal(env.ui.alerts[0].prompt,
    'no results at gs://demo-bucket/results/Spring_Launch_2-20261125-070809.csv yet: assetgen > Check status shows whether build ' +
    BUILD_ID + ' has finished');
  assert.equal(env.sheets.Results, undefined);

  env = load({ document: { 'assetgen.lastRun': LAST_RUN }, responses: [{ code: 200, body: 'scene_id,prompt\nS-1,x\n' }] });
  env.gs.importResults();
  assert.equal(env.ui.alerts[0].prompt, 'not an assetgen results file: no status or cost_usd column');

  env = load({ document: { 'assetgen.lastRun': LAST_RUN }, responses: [{ code: 200, body: 'scene_id,status,cost_usd\nS-1,ok,"0.03' }] });
  env.gs.importResults();
  assert.equal(env.ui.alerts[0].prompt, 'the CSV ends inside a quoted field (truncated file?)');
  assert.equal(env.sheets.Results, undefined);
});
