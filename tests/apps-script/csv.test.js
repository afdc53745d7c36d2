'use strict';
// The pure parts of Code.gs: CSV both ways, money in micro-dollars, URL encoding, settings.

const test = require('node:test');
const assert = require('node:assert/strict');
const { load, plain } = require('./harness');

const { gs } = load();

test('csv: getValues() becomes RFC 4180 with quotes, embedded newlines, booleans and ISO dates', () => {
  const values = [
    ['scene_id', 'prompt', 'variants', 'note', ''],
    ['A-1', 'a "red" chair, on white', 2, 'line one\nline two', ''],
    ['B-2', ' padded ', true, new Date(Date.UTC(2026, 0, 5)), ''],
    ['C-3', 'plain', 1.5, new Date(Date.UTC(2026, 0, 5, 13, 4, 5)), ''],
    ['', '', '', '', ''],
    ['D-4', 'carriage\r\nreturn', false, null, ''],
    ['', '', '', '', ''],
    ['', '', '', '', ''],
  ];
  const csv = plain(gs.encodeCsv_(values, 'Etc/UTC'));
  assert.deepEqual(csv, {
    text:
      'scene_id,prompt,variants,note\r\n' +
      'A-1,"a ""red"" chair, on white",2,"line one\nline two"\r\n' +
      'B-2," padded ",TRUE,2026-01-05\r\n' +
      'C-3,plain,1.5,2026-01-05T13:04:05Z\r\n' +
      ',,,\r\n' +
      'D-4,"carriage\r\nreturn",FALSE,\r\n',
    rows: 5,
  });
});

test('csv: dates are written in the spreadsheet time zone, with its offset', () => {
  const values = [
    ['scene_id', 'when'],
    ['late', new Date(Date.UTC(2026, 0, 5, 23, 30, 0))],  // 00:30 the next day in Paris
    ['midnight', new Date(Date.UTC(2026, 0, 4, 23, 0, 0))], // a date-only cell in Paris
    ['summer', new Date(Date.UTC(2026, 6, 1, 10, 0, 0))],
  ];
  assert.equal(gs.encodeCsv_(values, 'Europe/Paris').text,
    'scene_id,when\r\nlate,2026-01-06T00:30:00+01:00\r\nmidnight,2026-01-05\r\nsummer,2026-07-01T12:00:00+02:00\r\n');
});

test('csv: a sheet without a header row is refused', () => {
  assert.throws(() => gs.encodeCsv_([['', ''], ['', '']], 'Etc/UTC'), /no header row/);
  assert.throws(() => gs.encodeCsv_([['', ''], ['x', 'y']], 'Etc/UTC'), /no header row/);
});

test('csv: the parser reads what the encoder writes, cell for cell', () => {
  const values = [
    ['scene_id', 'prompt', 'refs'],
    ['q"1', '"quoted" start', 'https://a.example/x.png\nhttps://b.example/y.png'],
    ['comma,in', '', ' edge '],
    ['ünïcødé ✓', '=1+1', ''],
  ];
  const csv = gs.encodeCsv_(values, 'Etc/UTC');
  assert.deepEqual(plain(gs.parseCsv_(csv.text)), values);
});

test('csv: the parser handles a BOM, LF, CR and CRLF, "" escapes, empty fields and no final newline', () => {
  assert.deepEqual(plain(gs.parseCsv_('\ufeffa,b\r\n1,2\n3,4\r5,6')), [['a', 'b'], ['1', '2'], ['3', '4'], ['5', '6']]);
  assert.deepEqual(plain(gs.parseCsv_('a,"x ""y"" z",\n"multi\r\nline",,"",\n')),
    [['a', 'x "y" z', ''], ['multi\r\nline', '', '', '']]);
  assert.deepEqual(plain(gs.parseCsv_('')), []);
  assert.deepEqual(plain(gs.parseCsv_('only')), [['only']]);
  assert.deepEqual(plain(gs.parseCsv_('a,\n')), [['a', '']]);
  assert.deepEqual(plain(gs.parseCsv_('"",x')), [['', 'x']]);
});

test('csv: a quoted field that never closes is an error, not a short table', () => {
  assert.throws(() => gs.parseCsv_('a,b\n1,"half a field\n'), /ends inside a quoted field/);
});

test('money: decimal text becomes exact integer micro-dollars', () => {
  const cases = [
    ['0.039', 39000], ['0.078000', 78000], [0.039, 39000], [0.1, 100000], ['10', 10000000],
    ['.5', 500000], ['5.', 5000000], ['-0.25', -250000], ['+1.000001', 1000001],
    ['0.0000005', 1], ['0.0000004', 0], ['1e-7', 0], ['5e-7', 1], ['1.5E2', 150000000], [1e-7, 0],
    ['-0.0000001', 0], ['123456789.123456', 123456789123456],
  ];
  for (const [input, micros] of cases) {
    assert.equal(gs.decimalToMicros_(input), micros, 'decimalToMicros_(' + JSON.stringify(input) + ')');
  }
  for (const bad of ['', '.', 'abc', '1,5', '0x10', null, undefined, '1e30', {}]) {
    assert.equal(gs.decimalToMicros_(bad), null, 'decimalToMicros_(' + JSON.stringify(bad) + ')');
  }
});

test('money: micro-dollars print with six decimals', () => {
  assert.equal(gs.formatMicros_(0), '0.000000');
  assert.equal(gs.formatMicros_(117000), '0.117000');
  assert.equal(gs.formatMicros_(10000000), '10.000000');
  assert.equal(gs.formatMicros_(-250001), '-0.250001');
  assert.equal(gs.formatMicros_(123456789123456), '123456789.123456');
});

test('urls: components are percent-encoded per RFC 3986', () => {
  assert.equal(gs.encodeRfc3986_("batches/a b!'()*~._-é.csv"), 'batches%2Fa%20b%21%27%28%29%2A~._-%C3%A9.csv');
  assert.equal(gs.safeName_('Spring Launch #2'), 'Spring_Launch_2');
  assert.equal(gs.safeName_('../../etc'), 'etc');
  assert.equal(gs.safeName_('ü'), 'sheet');
  assert.equal(gs.safeUser_('ana+test@example.com'), 'ana+test@example.com');
  assert.equal(gs.safeUser_('a $b'), 'a_b');
});

test('settings: defaults, stored values, validation and the Settings prompt syntax', () => {
  const s = plain(gs.mergeSettings_({ BUCKET: ' demo-bucket ', MODE: '', UNKNOWN: 'x' }));
  assert.equal(s.BUCKET, 'demo-bucket');
  assert.equal(s.MODE, 'dry_run');
  assert.equal(s.REGION, 'global');
  assert.equal(s.UNKNOWN, undefined);
  assert.deepEqual(plain(gs.validateSettings_(Object.assign({}, s, { MODE: 'LIVE', BUCKET: 'Bad_Bucket' }))),
    ['BUCKET: "Bad_Bucket" is not valid', 'MODE: "LIVE" is not valid']);
  assert.deepEqual(plain(gs.parseSettingsInput_('bucket=demo-bucket  MODE=live; TRIGGER_ID= REGION=us-central1')),
    { set: { BUCKET: 'demo-bucket', MODE: 'live', REGION: 'us-central1' }, clear: ['TRIGGER_ID'], errors: [] });
  const bad = plain(gs.parseSettingsInput_('MODE=fast nonsense COLOR=red'));
  assert.deepEqual(bad.set, {});
  assert.equal(bad.errors.length, 3);
  assert.match(bad.errors[0], /^MODE: "fast" is not valid$/);
  assert.match(bad.errors[1], /"nonsense" is not KEY=value/);
  assert.match(bad.errors[2], /unknown setting "COLOR"/);
});
