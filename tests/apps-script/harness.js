'use strict';
// Loads samples/apps-script/Code.gs into a node:vm context with small hand-written stand-ins
// for the Apps Script services it uses, so that tests can run its menu handlers and look at
// every request it sends and every cell it writes. No Google, no network, no npm packages.
//
// The stand-ins follow the documented Apps Script behaviour only as far as Code.gs relies on
// it; anything else throws, so a new dependency shows up as a failing test, not a silent pass.

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const ROOT = path.resolve(__dirname, '..', '..');
const CODE_PATH = path.join(ROOT, 'samples', 'apps-script', 'Code.gs');
const MANIFEST_PATH = path.join(ROOT, 'samples', 'apps-script', 'appsscript.json');
const FAKE_TOKEN = 'ya29.test-token-must-never-be-shown';
// 2026-11-25T07:08:09.000Z, the clock every test runs at.
const NOW_MS = Date.UTC(2026, 10, 25, 7, 8, 9);

function readManifest() {
  return JSON.parse(fs.readFileSync(MANIFEST_PATH, 'utf8'));
}

// Utilities.formatDate(date, timeZone, pattern) for the SimpleDateFormat letters Code.gs uses:
// yyyy MM dd HH mm ss XXX and 'quoted' literals. Any other letter throws.
function formatDate(date, timeZone, pattern) {
  const ms = date.getTime();
  const parts = {};
  new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms)).forEach((p) => { parts[p.type] = p.value; });
  const localMs = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const offsetMin = Math.round((localMs - Math.floor(ms / 1000) * 1000) / 60000);
  const offset = offsetMin === 0 ? 'Z'
    : (offsetMin > 0 ? '+' : '-') + String(Math.floor(Math.abs(offsetMin) / 60)).padStart(2, '0') + ':' +
      String(Math.abs(offsetMin) % 60).padStart(2, '0');
  const tokens = { yyyy: parts.year, MM: parts.month, dd: parts.day, HH: parts.hour, mm: parts.minute, ss: parts.second, XXX: offset };
  let out = '';
  for (let i = 0; i < pattern.length;) {
    if (pattern[i] === "'") {
      const end = pattern.indexOf("'", i + 1);
      out += pattern.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    const token = Object.keys(tokens).find((t) => pattern.startsWith(t, i));
    if (token) {
      out += tokens[token];
      i += token.length;
    } else if (/[A-Za-z]/.test(pattern[i])) {
      throw new Error('formatDate stand-in: unsupported pattern letter in "' + pattern + '"');
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

function makeProperties(initial) {
  const store = Object.assign({}, initial || {});
  return {
    store,
    getProperty: (k) => (Object.prototype.hasOwnProperty.call(store, k) ? store[k] : null),
    setProperty(k, v) { store[k] = String(v); return this; },
    getProperties: () => Object.assign({}, store),
    setProperties(map) { Object.keys(map).forEach((k) => { store[k] = String(map[k]); }); return this; },
    deleteProperty(k) { delete store[k]; return this; },
  };
}

class FakeRange {
  constructor(sheet, row, col, numRows, numCols) {
    Object.assign(this, { sheet, row, col, numRows, numCols });
  }

  getValues() {
    const out = [];
    for (let r = 0; r < this.numRows; r++) {
      const line = [];
      for (let c = 0; c < this.numCols; c++) {
        const v = (this.sheet.grid[this.row - 1 + r] || [])[this.col - 1 + c];
        line.push(v === undefined ? '' : v);
      }
      out.push(line);
    }
    return out;
  }

  setValues(values) {
    if (values.length !== this.numRows || values.some((row) => row.length !== this.numCols)) {
      throw new Error('setValues: the data has ' + values.length + ' rows but the range has ' + this.numRows +
        ' (or a row width differs from ' + this.numCols + ')');
    }
    this.sheet.calls.push({ op: 'setValues', row: this.row, col: this.col, values: JSON.parse(JSON.stringify(values)) });
    values.forEach((line, r) => {
      const target = this.sheet.grid[this.row - 1 + r] || (this.sheet.grid[this.row - 1 + r] = []);
      line.forEach((v, c) => { target[this.col - 1 + c] = v; });
    });
    return this;
  }

  setNumberFormat(format) {
    this.sheet.calls.push({ op: 'setNumberFormat', row: this.row, col: this.col, numRows: this.numRows, numCols: this.numCols, format });
    return this;
  }
}

class FakeSheet {
  constructor(name, grid) {
    this.name = name;
    this.grid = grid ? grid.map((r) => r.slice()) : [];
    this.calls = [];
  }

  getName() { return this.name; }

  getDataRange() {
    const rows = this.grid.length;
    const cols = this.grid.reduce((w, r) => Math.max(w, r.length), 0);
    return new FakeRange(this, 1, 1, Math.max(rows, 1), Math.max(cols, 1));
  }

  getRange(row, col, numRows, numCols) {
    if (![row, col, numRows, numCols].every((n) => Number.isInteger(n) && n >= 1)) {
      throw new Error('getRange: bad arguments ' + [row, col, numRows, numCols].join(','));
    }
    return new FakeRange(this, row, col, numRows, numCols);
  }

  clear() { this.grid = []; this.calls.push({ op: 'clear' }); return this; }

  setFrozenRows(n) { this.calls.push({ op: 'setFrozenRows', rows: n }); return this; }
}

function makeUi(answers) {
  const ui = {
    alerts: [],
    prompts: [],
    menus: [],
    answers: (answers && answers.alert) || [],
    promptAnswers: (answers && answers.prompt) || [],
    Button: { OK: 'OK', CANCEL: 'CANCEL', YES: 'YES', NO: 'NO', CLOSE: 'CLOSE' },
    ButtonSet: { OK: 'OK', OK_CANCEL: 'OK_CANCEL', YES_NO: 'YES_NO', YES_NO_CANCEL: 'YES_NO_CANCEL' },
    alert(...args) {
      const [title, prompt, buttons] = args.length === 1 ? [null, args[0], 'OK'] : args.length === 2 ? [null, args[0], args[1]] : args;
      ui.alerts.push({ title, prompt, buttons });
      return ui.answers.length ? ui.answers.shift() : 'OK';
    },
    prompt(title, prompt, buttons) {
      ui.prompts.push({ title, prompt, buttons });
      const a = ui.promptAnswers.shift() || { button: 'CANCEL', text: '' };
      return { getSelectedButton: () => a.button, getResponseText: () => a.text };
    },
    createMenu(caption) {
      const menu = { caption, items: [] };
      const builder = {
        addItem(name, fn) { menu.items.push([name, fn]); return builder; },
        addSeparator() { menu.items.push(['-', null]); return builder; },
        addToUi() { ui.menus.push(menu); },
      };
      return builder;
    },
  };
  return ui;
}

// responses: queue of {code, body} (or functions (url, params) -> {code, body}) answered in order.
function makeUrlFetch(responses, whitelist) {
  const fetches = [];
  return {
    fetches,
    service: {
      fetch(url, params) {
        if (!whitelist.some((prefix) => url.startsWith(prefix))) {
          throw new Error('UrlFetchApp: ' + url + ' is not in appsscript.json urlFetchWhitelist');
        }
        if (!params || params.muteHttpExceptions !== true) {
          throw new Error('UrlFetchApp stand-in: every fetch must set muteHttpExceptions: true');
        }
        fetches.push({ url, params: JSON.parse(JSON.stringify(params)) });
        if (!responses.length) {
          throw new Error('UrlFetchApp stand-in: no scripted response for ' + (params.method || 'get') + ' ' + url);
        }
        let r = responses.shift();
        if (typeof r === 'function') {
          r = r(url, params);
        }
        const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        return { getResponseCode: () => r.code, getContentText: () => body };
      },
    },
  };
}

/**
 * A fresh Code.gs with stand-ins. Options: settings (Script Properties), document (Document
 * Properties), sheets ({name: grid}), active (name of the active sheet), timeZone, responses,
 * answers ({alert: [...], prompt: [{button, text}]}), email.
 */
function load(options) {
  const o = options || {};
  const manifest = readManifest();
  const sheets = {};
  Object.keys(o.sheets || { Sheet1: [] }).forEach((name) => { sheets[name] = new FakeSheet(name, (o.sheets || { Sheet1: [] })[name]); });
  const activeName = o.active || Object.keys(sheets)[0];
  const ui = makeUi(o.answers);
  const url = makeUrlFetch(o.responses ? o.responses.slice() : [], manifest.urlFetchWhitelist);
  const toasts = [];
  const logs = [];
  const scriptProps = makeProperties(o.settings);
  const documentProps = makeProperties(o.document);
  const spreadsheet = {
    getActiveSheet: () => sheets[activeName],
    getSheetByName: (name) => sheets[name] || null,
    insertSheet(name) {
      if (sheets[name]) {
        throw new Error('insertSheet: a sheet named "' + name + '" exists');
      }
      sheets[name] = new FakeSheet(name, []);
      return sheets[name];
    },
    getSpreadsheetTimeZone: () => o.timeZone || 'Etc/UTC',
    toast(message, title, seconds) { toasts.push({ message, title, seconds }); },
  };
  const context = {
    SpreadsheetApp: { getActiveSpreadsheet: () => spreadsheet, getActive: () => spreadsheet, getUi: () => ui },
    UrlFetchApp: url.service,
    ScriptApp: { getOAuthToken: () => FAKE_TOKEN },
    PropertiesService: { getScriptProperties: () => scriptProps, getDocumentProperties: () => documentProps },
    Utilities: { formatDate },
    Session: { getActiveUser: () => ({ getEmail: () => (o.email === undefined ? 'ana@example.com' : o.email) }) },
    Logger: { log: (...args) => { logs.push(args.map(String).join(' ')); } },
  };
  vm.createContext(context);
  // A fixed clock: `new Date()` and Date.now() in Code.gs read NOW_MS.
  vm.runInContext(
    '(function (fixed) {' +
    '  var RealDate = Date;' +
    '  class FixedDate extends RealDate {' +
    '    constructor(...args) { if (args.length === 0) { super(fixed); } else { super(...args); } }' +
    '    static now() { return fixed; }' +
    '  }' +
    '  globalThis.Date = FixedDate;' +
    '})(' + NOW_MS + ');', context);
  vm.runInContext(fs.readFileSync(CODE_PATH, 'utf8'), context, { filename: 'Code.gs' });
  return { gs: context, ui, fetches: url.fetches, toasts, logs, sheets, scriptProps, documentProps };
}

// Everything a user or a log could see, to check that no token leaks into it.
function visibleText(env) {
  return JSON.stringify({ alerts: env.ui.alerts, prompts: env.ui.prompts, toasts: env.toasts, logs: env.logs, document: env.documentProps.store });
}

// Converts a value made in the vm context (arrays, objects) to this realm for deepStrictEqual.
function plain(value) {
  return JSON.parse(JSON.stringify(value));
}

module.exports = { load, visibleText, plain, readManifest, formatDate, FAKE_TOKEN, NOW_MS, ROOT };
