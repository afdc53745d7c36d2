/**
 * assetgen for Google Sheets (samples/apps-script/Code.gs).
 *
 * Adds an "assetgen" menu to the spreadsheet this script is bound to:
 *   Run batch       the active sheet as CSV -> gs://BUCKET/batches/<sheet>-<yyyyMMdd-HHmmss>.csv,
 *                   then a Cloud Build that runs `assetgen run` on it (a manual trigger running
 *                   samples/cloud/cloudbuild.yaml, or, with no trigger set, an inline build of
 *                   the image already pushed); the build id is kept in Document Properties
 *   Check status    the state of that build
 *   Import results  the results CSV of that build -> sheet "Results" (status, cost, links,
 *                   =IMAGE thumbnails for signed URLs, a cost total)
 *   Spend today     today's totals gs://BUCKET/ledger/totals/YYYY-MM-DD.json, which every
 *                   `assetgen run` keeps current (a few KB however many images the day had)
 *   Settings        bucket, project, trigger ... (Script Properties; defaults below)
 *
 * Every Google call goes through UrlFetchApp with the user's OAuth token
 * (ScriptApp.getOAuthToken(), scopes in appsscript.json) and muteHttpExceptions, so an HTTP
 * error reaches the user with Google's own message. Tokens are never logged or shown.
 *
 * Layout: pure functions first (CSV, names, URLs, request building, parsing, sums), which
 * tests/apps-script/ runs in Node without Google; then the few functions that touch
 * UrlFetchApp, SpreadsheetApp and PropertiesService; the menu handlers last.
 * Names ending in "_" are private in Apps Script (hidden from the Run menu).
 */

// ---------------------------------------------------------------------------------------------
// Settings. Stored in Script Properties under these names; assetgen > Settings edits them.
// ---------------------------------------------------------------------------------------------

var SETTINGS_DEFAULTS_ = {
  BUCKET: '',                       // bucket for batches, images, ledger and results (no gs://)
  PROJECT: '',                      // Google Cloud project that runs Cloud Build
  REGION: 'global',                 // Cloud Build location: 'global' or a region (us-central1)
  TRIGGER_ID: '',                   // manual trigger to run; empty: an inline build of IMAGE
  BRANCH: '',                       // branch the trigger builds (empty: the trigger's own)
  BUILD_IMAGE: 'false',             // trigger: 'true' recompiles the image before the batch
  IMAGE: '',                        // inline: REGION-docker.pkg.dev/PROJECT/assetgen/assetgen:latest
  SERVICE_ACCOUNT: '',              // inline: the build's service account email (empty: default)
  API: 'gemini',                    // inline: gemini (API key secret) or vertex (service account)
  API_KEY_SECRET: 'gemini-api-key', // inline, gemini: Secret Manager secret with the API key
  API_KEY_VERSION: '1',             // inline, gemini: its pinned version (not latest)
  SIGN_URLS: '7d',                  // --sign-urls: signed URLs for the thumbnails, or off
  VERTEX_LOCATION: 'global',        // inline, vertex: model location
  MODE: 'dry_run',                  // dry_run (synthetic images, no money) or live
  DAILY_BUDGET_USD: '10',           // per user and day (assetgen --daily-budget-usd)
  USER: '',                         // whose budget; empty: the signed-in user's email
  BATCHES_PREFIX: 'batches',
  OUT_PREFIX: 'assets',
  LEDGER_PREFIX: 'ledger',
  RESULTS_PREFIX: 'results'
};

var SETTING_PATTERNS_ = {
  BUCKET: /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/,
  PROJECT: /^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
  REGION: /^(global|[a-z]+-[a-z]+[0-9]+)$/,
  TRIGGER_ID: /^[A-Za-z0-9_-]{1,128}$/,
  BRANCH: /^[A-Za-z0-9._\/-]{1,200}$/,
  BUILD_IMAGE: /^(true|false)$/,
  IMAGE: /^[a-z0-9.-]+(:[0-9]+)?\/[a-z0-9._\/-]+(:[A-Za-z0-9._-]{1,128}|@sha256:[0-9a-f]{64})?$/,
  SERVICE_ACCOUNT: /^[a-z][a-z0-9-]{4,29}@[a-z0-9.-]+\.iam\.gserviceaccount\.com$/,
  API: /^(gemini|vertex)$/,
  API_KEY_SECRET: /^[A-Za-z0-9_-]{1,255}$/,
  API_KEY_VERSION: /^[1-9][0-9]{0,9}$/,
  SIGN_URLS: /^(off|[1-9][0-9]{0,5}[smhd])$/,
  VERTEX_LOCATION: /^(global|[a-z]+-[a-z]+[0-9]+)$/,
  MODE: /^(dry_run|live)$/,
  DAILY_BUDGET_USD: /^[0-9]+(\.[0-9]{1,6})?$/,
  USER: /^[A-Za-z0-9._@+-]{1,200}$/,
  BATCHES_PREFIX: /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
  OUT_PREFIX: /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
  LEDGER_PREFIX: /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
  RESULTS_PREFIX: /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/
};

var LAST_RUN_PROPERTY_ = 'assetgen.lastRun';
var RESULTS_SHEET_ = 'Results';
var CLOUD_BUILD_API_ = 'https://cloudbuild.googleapis.com/v1';
var STORAGE_API_ = 'https://storage.googleapis.com/storage/v1';
var STORAGE_UPLOAD_API_ = 'https://storage.googleapis.com/upload/storage/v1';
var RESULT_COLUMNS_ = ['status', 'images', 'cost_usd', 'error_code', 'error'];

/** The defaults overlaid with the stored properties (unknown properties are ignored). */
function mergeSettings_(stored) {
  var settings = {};
  Object.keys(SETTINGS_DEFAULTS_).forEach(function (key) {
    var value = stored && Object.prototype.hasOwnProperty.call(stored, key) ? String(stored[key]).trim() : '';
    settings[key] = value !== '' ? value : SETTINGS_DEFAULTS_[key];
  });
  return settings;
}

/** Problems with the non-empty settings, one message each ([] when all are well formed). */
function validateSettings_(settings) {
  var problems = [];
  Object.keys(SETTING_PATTERNS_).forEach(function (key) {
    var value = settings[key];
    if (value !== '' && value !== undefined && !SETTING_PATTERNS_[key].test(value)) {
      problems.push(key + ': "' + value + '" is not valid');
    }
  });
  return problems;
}

/** Throws naming every missing setting the action needs, and every malformed one. */
function requireSettings_(settings, keys) {
  var problems = validateSettings_(settings);
  keys.forEach(function (key) {
    if (!settings[key]) {
      problems.push(key + ' is not set (assetgen > Settings)');
    }
  });
  if (problems.length) {
    throw new Error(problems.join('\n'));
  }
}

/** Checks the settings Run batch needs: a bucket, a project, and a trigger or an image. */
function checkRunSettings_(settings) {
  requireSettings_(settings, ['BUCKET', 'PROJECT']);
  if (!settings.TRIGGER_ID && !settings.IMAGE) {
    throw new Error('set TRIGGER_ID (a manual Cloud Build trigger) or IMAGE (the pushed assetgen image) in assetgen > Settings');
  }
}

/**
 * Parses the Settings prompt: "KEY=value" pairs separated by blanks, ";" or ",". "KEY=" goes
 * back to the default. Returns {set: {KEY: value}, clear: [KEY], errors: [message]}.
 */
function parseSettingsInput_(text) {
  var result = { set: {}, clear: [], errors: [] };
  String(text || '').split(/[\s;,]+/).forEach(function (token) {
    if (token === '') {
      return;
    }
    var eq = token.indexOf('=');
    if (eq <= 0) {
      result.errors.push('"' + token + '" is not KEY=value');
      return;
    }
    var key = token.slice(0, eq).trim().toUpperCase();
    var value = token.slice(eq + 1).trim();
    if (!Object.prototype.hasOwnProperty.call(SETTINGS_DEFAULTS_, key)) {
      result.errors.push('unknown setting "' + key + '" (known: ' + Object.keys(SETTINGS_DEFAULTS_).join(', ') + ')');
      return;
    }
    if (value === '') {
      result.clear.push(key);
      return;
    }
    if (SETTING_PATTERNS_[key] && !SETTING_PATTERNS_[key].test(value)) {
      result.errors.push(key + ': "' + value + '" is not valid');
      return;
    }
    result.set[key] = value;
  });
  return result;
}

/** One "KEY = value" line per setting, defaults marked. */
function describeSettings_(settings) {
  return Object.keys(SETTINGS_DEFAULTS_).map(function (key) {
    var value = settings[key];
    if (value === '') {
      return key + ' = (not set)';
    }
    return key + ' = ' + value + (value === SETTINGS_DEFAULTS_[key] ? ' (default)' : '');
  }).join('\n');
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180)
// ---------------------------------------------------------------------------------------------

function isDate_(value) {
  return Object.prototype.toString.call(value) === '[object Date]';
}

/**
 * A getValues() cell as the text assetgen should read: dates as ISO 8601 in the
 * spreadsheet's time zone (a date without a time of day as yyyy-MM-dd), booleans as Sheets
 * exports them (TRUE/FALSE), numbers in JavaScript's shortest exact form.
 */
function cellToText_(value, timeZone) {
  if (value === null || value === undefined) {
    return '';
  }
  if (isDate_(value)) {
    if (isNaN(value.getTime())) {
      return '';
    }
    if (Utilities.formatDate(value, timeZone, 'HH:mm:ss') === '00:00:00') {
      return Utilities.formatDate(value, timeZone, 'yyyy-MM-dd');
    }
    return Utilities.formatDate(value, timeZone, "yyyy-MM-dd'T'HH:mm:ssXXX");
  }
  if (typeof value === 'boolean') {
    return value ? 'TRUE' : 'FALSE';
  }
  return String(value);
}

/** One CSV field: quoted (quotes doubled) when it holds a comma, quote, CR, LF or edge blanks. */
function csvField_(text) {
  if (/[",\r\n]/.test(text) || /^[ \t]|[ \t]$/.test(text)) {
    return '"' + text.replace(/"/g, '""') + '"';
  }
  return text;
}

/**
 * getValues() of a sheet (header first) as RFC 4180 CSV with CRLF line ends. Columns and rows
 * after the last non-empty cell are left out; empty rows in between are kept (assetgen skips
 * them), so CSV records stay in sheet order. Returns {text, rows} (rows: data rows, no header).
 */
function encodeCsv_(values, timeZone) {
  var texts = values.map(function (row) {
    return row.map(function (cell) { return cellToText_(cell, timeZone); });
  });
  var width = 0;
  var height = 0;
  texts.forEach(function (row, r) {
    row.forEach(function (text, c) {
      if (text !== '') {
        width = Math.max(width, c + 1);
        height = r + 1;
      }
    });
  });
  if (height === 0 || texts[0].slice(0, width).every(function (t) { return t === ''; })) {
    throw new Error('the sheet has no header row (scene_id, prompt, ...)');
  }
  var lines = [];
  for (var r = 0; r < height; r++) {
    var fields = [];
    for (var c = 0; c < width; c++) {
      fields.push(csvField_(c < texts[r].length ? texts[r][c] : ''));
    }
    lines.push(fields.join(',') + '\r\n');
  }
  return { text: lines.join(''), rows: height - 1 };
}

/**
 * RFC 4180 CSV -> array of rows of strings. Accepts a UTF-8 BOM, CRLF, LF or CR line ends and
 * quoted fields with "" and line breaks inside; a final line end does not start a row.
 * Throws on a quoted field that never closes (a truncated file).
 */
function parseCsv_(text) {
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
  }
  var rows = [];
  var row = [];
  var field = '';
  var quoted = false;
  var fieldStart = true;
  for (var i = 0; i < text.length; i++) {
    var ch = text.charAt(i);
    if (quoted) {
      if (ch !== '"') {
        field += ch;
      } else if (text.charAt(i + 1) === '"') {
        field += '"';
        i++;
      } else {
        quoted = false;
      }
      continue;
    }
    if (ch === '"' && fieldStart) {
      quoted = true;
      fieldStart = false;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      fieldStart = true;
    } else if (ch === '\r' || ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      fieldStart = true;
      if (ch === '\r' && text.charAt(i + 1) === '\n') {
        i++;
      }
    } else {
      field += ch;
      fieldStart = false;
    }
  }
  if (quoted) {
    throw new Error('the CSV ends inside a quoted field (truncated file?)');
  }
  if (!fieldStart || field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Money: integer micro-dollars, so sums are exact
// ---------------------------------------------------------------------------------------------

/**
 * A decimal dollar amount (number or text, e.g. 0.039, "0.078000", 1e-7) as integer
 * micro-dollars, rounded half away from zero on the seventh decimal, computed on the decimal
 * digits (no binary floating point). null when it is not a number or too large.
 */
function decimalToMicros_(value) {
  var text = typeof value === 'number' ? String(value) : String(value === null || value === undefined ? '' : value).trim();
  var m = /^([+-])?([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m || (m[2] === '' && !m[3])) {
    return null;
  }
  var whole = m[2] || '';
  var digits = whole + (m[3] || '');
  var point = whole.length + (m[4] ? parseInt(m[4], 10) : 0);
  var cut = point + 6; // digits[0, cut) are whole micro-dollars
  var kept;
  var next;
  if (cut <= 0) {
    kept = '0';
    next = cut === 0 ? digits.charAt(0) : '0';
  } else if (cut >= digits.length) {
    kept = digits + new Array(cut - digits.length + 1).join('0');
    next = '0';
  } else {
    kept = digits.slice(0, cut);
    next = digits.charAt(cut);
  }
  kept = kept.replace(/^0+(?=[0-9])/, '');
  if (kept.length > 15) {
    return null;
  }
  var micros = parseInt(kept || '0', 10) + (next >= '5' ? 1 : 0);
  return m[1] === '-' && micros !== 0 ? -micros : micros;
}

/** Integer micro-dollars as dollars with six decimals: 117000 -> "0.117000". */
function formatMicros_(micros) {
  var sign = micros < 0 ? '-' : '';
  var abs = Math.abs(micros);
  var fraction = String(abs % 1000000);
  return sign + Math.floor(abs / 1000000) + '.' + '000000'.slice(fraction.length) + fraction;
}

// ---------------------------------------------------------------------------------------------
// Names and URLs
// ---------------------------------------------------------------------------------------------

/** RFC 3986 percent-encoding of one URL component (encodeURIComponent leaves !'()* alone). */
function encodeRfc3986_(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, function (ch) {
    return '%' + ch.charCodeAt(0).toString(16).toUpperCase();
  });
}

/** A sheet name as a safe object-name part: [A-Za-z0-9._-], at most 100 characters. */
function safeName_(name) {
  var safe = String(name).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 100);
  return safe || 'sheet';
}

/** A user id for --user and the ledger's userId, restricted to [A-Za-z0-9._@+-]. */
function safeUser_(user) {
  return String(user).replace(/[^A-Za-z0-9._@+-]+/g, '_').slice(0, 200) || 'sheets';
}

/** Where one run's files go: the batch and results objects share <sheet>-<UTC time>. */
function batchNames_(settings, sheetName, now) {
  var base = safeName_(sheetName) + '-' + Utilities.formatDate(now, 'UTC', 'yyyyMMdd-HHmmss');
  var gs = 'gs://' + settings.BUCKET + '/';
  var batchObject = settings.BATCHES_PREFIX + '/' + base + '.csv';
  var resultsObject = settings.RESULTS_PREFIX + '/' + base + '.csv';
  return {
    base: base,
    batchObject: batchObject,
    batchUri: gs + batchObject,
    resultsObject: resultsObject,
    resultsUri: gs + resultsObject,
    outUri: gs + settings.OUT_PREFIX,
    ledgerUri: gs + settings.LEDGER_PREFIX
  };
}

/** The day's totals object that `assetgen run` keeps: <prefix>/totals/YYYY-MM-DD.json. */
function ledgerTotalsObject_(ledgerPrefix, day) {
  return ledgerPrefix + '/totals/' + day + '.json';
}

/** The ledger's object for a UTC day: <prefix>/YYYY-MM-DD.jsonl (DESIGN.md §7). */
function ledgerDayObject_(ledgerPrefix, day) {
  return ledgerPrefix + '/' + day + '.jsonl';
}

/** Cloud Build's collection URL for the project, regional unless the location is global. */
function cloudBuildBase_(project, region) {
  var base = CLOUD_BUILD_API_ + '/projects/' + encodeRfc3986_(project);
  return region && region !== 'global' ? base + '/locations/' + encodeRfc3986_(region) : base;
}

function authHeaders_(token) {
  return { Authorization: 'Bearer ' + token };
}

// ---------------------------------------------------------------------------------------------
// Requests: {url, params} for UrlFetchApp.fetch(url, params); building them sends nothing
// ---------------------------------------------------------------------------------------------

/**
 * Storage JSON API simple upload of the CSV. ifGenerationMatch=0 makes it create-only: two
 * runs in the same second cannot overwrite each other's batch (the second gets HTTP 412).
 */
function uploadRequest_(bucket, objectName, csvText, token) {
  return {
    url: STORAGE_UPLOAD_API_ + '/b/' + encodeRfc3986_(bucket) + '/o?uploadType=media&name=' +
      encodeRfc3986_(objectName) + '&ifGenerationMatch=0',
    params: {
      method: 'post',
      contentType: 'text/csv; charset=utf-8',
      payload: csvText,
      headers: authHeaders_(token),
      muteHttpExceptions: true
    }
  };
}

/** Storage JSON API media download (objects.get with alt=media). */
function downloadRequest_(bucket, objectName, token) {
  return {
    url: STORAGE_API_ + '/b/' + encodeRfc3986_(bucket) + '/o/' + encodeRfc3986_(objectName) + '?alt=media',
    params: { method: 'get', headers: authHeaders_(token), muteHttpExceptions: true }
  };
}

/** The substitutions a trigger run sends; cloudbuild.yaml declares each of them. */
function triggerSubstitutions_(settings, names, user) {
  return {
    _BUCKET: settings.BUCKET,
    _BATCH_URI: names.batchUri,
    _MODE: settings.MODE,
    _OUT: names.outUri,
    _LEDGER: names.ledgerUri,
    _RESULTS: names.resultsUri,
    _DAILY_BUDGET_USD: settings.DAILY_BUDGET_USD,
    _USER: user,
    _BUILD_IMAGE: settings.BUILD_IMAGE,
    _SIGN_URLS: settings.SIGN_URLS === 'off' ? '' : settings.SIGN_URLS
  };
}

/**
 * triggers.run. The global endpoint takes a RepoSource as the body; the regional one wraps it
 * as {projectId, triggerId, source} (Cloud Build REST reference, projects.locations.triggers.run).
 */
function triggerRunRequest_(settings, substitutions, token) {
  var source = { substitutions: substitutions };
  if (settings.BRANCH) {
    source.branchName = settings.BRANCH;
  }
  var regional = settings.REGION !== 'global';
  var body = regional ? { projectId: settings.PROJECT, triggerId: settings.TRIGGER_ID, source: source } : source;
  return {
    url: cloudBuildBase_(settings.PROJECT, settings.REGION) + '/triggers/' + encodeRfc3986_(settings.TRIGGER_ID) + ':run',
    params: {
      method: 'post',
      contentType: 'application/json',
      payload: JSON.stringify(body),
      headers: authHeaders_(token),
      muteHttpExceptions: true
    }
  };
}

/** The `assetgen run` arguments of one batch (the same command as cloudbuild.yaml's step). */
function runArgs_(settings, names, user) {
  var args = ['run', names.batchUri, '--mode', settings.MODE, '--out', names.outUri, '--ledger', names.ledgerUri,
    '--results', names.resultsUri, '--daily-budget-usd', settings.DAILY_BUDGET_USD, '--user', user];
  if (settings.API === 'vertex') {
    args.push('--api', 'vertex', '--project', settings.PROJECT, '--location', settings.VERTEX_LOCATION);
  }
  if (settings.SIGN_URLS !== 'off') {
    args.push('--sign-urls', settings.SIGN_URLS);
  }
  args.push('--quiet');
  return args;
}

/**
 * An inline build running the pushed image once (no trigger, no repository). The API key
 * secret is attached only when a live Gemini API run needs it. Exit code 1 (finished, some
 * rows failed) does not fail the build: the results file says which rows.
 */
function inlineBuild_(settings, names, user) {
  var step = { id: 'batch', name: settings.IMAGE, args: runArgs_(settings, names, user), allowExitCodes: [1] };
  var build = { steps: [step], timeout: '3600s', options: { logging: 'CLOUD_LOGGING_ONLY' }, tags: ['assetgen'] };
  if (settings.API === 'gemini' && settings.MODE === 'live') {
    step.secretEnv = ['GEMINI_API_KEY'];
    build.availableSecrets = {
      secretManager: [{
        versionName: 'projects/' + settings.PROJECT + '/secrets/' + settings.API_KEY_SECRET + '/versions/' +
          settings.API_KEY_VERSION,
        env: 'GEMINI_API_KEY'
      }]
    };
  }
  if (settings.SERVICE_ACCOUNT) {
    build.serviceAccount = 'projects/' + settings.PROJECT + '/serviceAccounts/' + settings.SERVICE_ACCOUNT;
  }
  return build;
}

/** projects.builds.create (or projects.locations.builds.create) with the inline build. */
function inlineBuildRequest_(settings, names, user, token) {
  return {
    url: cloudBuildBase_(settings.PROJECT, settings.REGION) + '/builds',
    params: {
      method: 'post',
      contentType: 'application/json',
      payload: JSON.stringify(inlineBuild_(settings, names, user)),
      headers: authHeaders_(token),
      muteHttpExceptions: true
    }
  };
}

/** projects.builds.get (or projects.locations.builds.get). */
function buildStatusRequest_(project, region, buildId, token) {
  return {
    url: cloudBuildBase_(project, region) + '/builds/' + encodeRfc3986_(buildId),
    params: { method: 'get', headers: authHeaders_(token), muteHttpExceptions: true }
  };
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/** Google's error message from an error body ({"error": {"message"}}), else the text, cut short. */
function httpErrorMessage_(text) {
  try {
    var body = JSON.parse(text);
    if (body && body.error) {
      if (typeof body.error === 'string') {
        return body.error_description ? body.error + ': ' + body.error_description : body.error;
      }
      if (body.error.message) {
        return body.error.message;
      }
    }
  } catch (e) {
    // not JSON: use the text
  }
  var plain = String(text || '').replace(/\s+/g, ' ').trim();
  return plain.length > 300 ? plain.slice(0, 300) + '...' : plain || '(empty answer)';
}

/** The build id from the Operation that triggers.run and builds.create answer with. */
function buildIdFromOperation_(operation) {
  var build = operation && operation.metadata && operation.metadata.build;
  if (!build || !build.id) {
    throw new Error('Cloud Build answered without a build id: ' + JSON.stringify(operation).slice(0, 300));
  }
  return build.id;
}

/** What the user should know about a Build resource, one fact a line. */
function describeBuild_(build, run) {
  var lines = ['Build ' + (build.id || run.buildId) + ': ' + (build.status || 'STATUS_UNKNOWN')];
  lines.push('Batch: ' + run.batchUri + ' (' + run.rows + ' rows, ' + run.mode + ')');
  if (build.startTime) {
    lines.push('Started: ' + build.startTime);
  }
  if (build.finishTime) {
    lines.push('Finished: ' + build.finishTime);
  }
  var detail = (build.failureInfo && build.failureInfo.detail) || build.statusDetail;
  if (detail) {
    lines.push('Detail: ' + detail);
  }
  if (build.logUrl) {
    lines.push('Logs: ' + build.logUrl);
  }
  if (build.status === 'SUCCESS') {
    lines.push('Next: assetgen > Import results (' + run.resultsUri + ')');
  } else if (build.status === 'QUEUED' || build.status === 'PENDING' || build.status === 'WORKING') {
    lines.push('Still running: check again in a minute.');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Results sheet
// ---------------------------------------------------------------------------------------------

/**
 * A results cell as a value for setValues() that Sheets keeps as text: a leading apostrophe
 * marks text in Sheets (it is not shown), so nothing from the file is read as a formula,
 * number or date. assetgen's results writer already put an apostrophe before cells that look
 * like formulas (= + - @); that one is an escape, so it is replaced, not doubled.
 */
function sheetText_(text) {
  if (text === '') {
    return '';
  }
  if (text.charAt(0) === "'" && /^[=+\-@\t\r]/.test(text.slice(1))) {
    text = text.slice(1);
  }
  return "'" + text;
}

/** A storage.cloud.google.com link (signed-in browser access) for a gs:// URI, else null. */
function consoleLink_(uri) {
  var m = /^gs:\/\/([^\/]+)\/(.+)$/.exec(uri);
  if (!m) {
    return null;
  }
  return 'https://storage.cloud.google.com/' + m[1] + '/' + m[2].split('/').map(encodeRfc3986_).join('/');
}

/** A text as a string literal inside a Sheets formula: quoted, inner quotes doubled. */
function formulaString_(text) {
  return '"' + String(text).replace(/"/g, '""') + '"';
}

/**
 * The preview cell for a row's images: =IMAGE of the first https URL (a signed URL; Sheets
 * fetches it without the user's cookies), a "open" link for a gs:// URI, else empty.
 */
function previewFormula_(imagesText) {
  var first = String(imagesText).split(/\s+/).filter(function (u) { return u !== ''; })[0];
  if (!first || /[\u0000-\u001f\u007f]/.test(first)) {
    return '';
  }
  if (/^https:\/\//.test(first)) {
    return '=IMAGE(' + formulaString_(first) + ')';
  }
  var link = consoleLink_(first);
  return link ? '=HYPERLINK(' + formulaString_(link) + ',"open")' : '';
}

/**
 * The parsed results CSV as the Results sheet: the file's columns (every cell as text), cost_usd
 * as a number, a "preview" column, and a last row with the cost total (summed in micro-dollars).
 * Returns {values, width, rows, costColumn, totalMicros, statuses: {status: count}}.
 */
function resultsTable_(rows) {
  if (!rows.length) {
    throw new Error('the results file is empty');
  }
  var header = rows[0].map(function (h) { return String(h).trim(); });
  var names = header.map(function (h) { return h.toLowerCase().replace(/ /g, '_'); });
  var index = {};
  RESULT_COLUMNS_.forEach(function (c) { index[c] = names.indexOf(c); });
  if (index.status < 0 || index.cost_usd < 0) {
    throw new Error('not an assetgen results file: no status or cost_usd column');
  }
  var width = header.length + 1;
  var values = [header.map(sheetText_).concat(['preview'])];
  var totalMicros = 0;
  var statuses = {};
  rows.slice(1).forEach(function (row) {
    if (row.every(function (cell) { return cell.trim() === ''; })) {
      return;
    }
    var out = [];
    for (var c = 0; c < header.length; c++) {
      var cell = c < row.length ? row[c] : '';
      if (c === index.cost_usd) {
        var micros = decimalToMicros_(cell);
        if (micros === null) {
          out.push(sheetText_(cell));
        } else {
          totalMicros += micros;
          out.push(micros / 1000000);
        }
      } else {
        out.push(sheetText_(cell));
      }
    }
    out.push(index.images >= 0 ? previewFormula_(row[index.images] || '') : '');
    var status = row[index.status] || '';
    statuses[status] = (statuses[status] || 0) + 1;
    values.push(out);
  });
  var total = [];
  for (var i = 0; i < width; i++) {
    total.push('');
  }
  total[index.cost_usd === 0 ? width - 1 : 0] = "'total";
  total[index.cost_usd] = totalMicros / 1000000;
  values.push(total);
  return {
    values: values,
    width: width,
    rows: values.length - 2,
    costColumn: index.cost_usd + 1,
    totalMicros: totalMicros,
    statuses: statuses
  };
}

/** "ok 3, failed 1" from {status: count}, in name order. */
function describeStatuses_(statuses) {
  return Object.keys(statuses).sort().map(function (s) {
    return (s || '(none)') + ' ' + statuses[s];
  }).join(', ');
}

// ---------------------------------------------------------------------------------------------
// Ledger
// ---------------------------------------------------------------------------------------------

/**
 * Sums one ledger day object (JSON lines) per user and mode, in micro-dollars. Lines of the
 * reference platform (no "mode") count as live. A last line that does not parse is a torn
 * write in progress and is reported, not counted; other bad lines are counted as bad.
 * Returns {users: {userId: {live, dry_run, entries, images, reserved}}, entries, bad, torn}
 * (reserved, what pending batches hold, is known from the totals object only: 0 here).
 */
function sumLedger_(text) {
  var summary = { users: {}, entries: 0, bad: 0, torn: false };
  var lines = String(text).split('\n');
  lines.forEach(function (raw, i) {
    var line = raw.replace(/\r$/, '');
    if (line.trim() === '') {
      return;
    }
    var entry;
    try {
      entry = JSON.parse(line);
    } catch (e) {
      if (i === lines.length - 1) {
        summary.torn = true;
      } else {
        summary.bad++;
      }
      return;
    }
    var micros = entry && typeof entry === 'object' ? decimalToMicros_(entry.cost) : null;
    if (micros === null) {
      summary.bad++;
      return;
    }
    var user = entry.userId === undefined || entry.userId === null || entry.userId === '' ? '(unknown)' : String(entry.userId);
    var mode = entry.mode === 'dry_run' ? 'dry_run' : 'live';
    var acc = summary.users[user] || (summary.users[user] = { live: 0, dry_run: 0, entries: 0, images: 0, reserved: 0 });
    acc[mode] += micros;
    acc.entries++;
    acc.images += typeof entry.images === 'number' ? entry.images : 0;
    summary.entries++;
  });
  return summary;
}

/**
 * The day's totals object (README.md, Formats: {"v", "day", "users": {user: {mode:
 * {"cost_micros", "images", "requests", "reserved_pending_micros", "updated"}}}}) as sumLedger_'s
 * summary, so both read alike; reserved is what the day's pending batches (`--tier batch`) still
 * hold of the budget (live). A document that is not such an object throws, naming it.
 */
function summaryFromTotals_(text, objectUri) {
  var doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(objectUri + ': not JSON (assetgen run rewrites it at the end of every run)');
  }
  if (!doc || typeof doc !== 'object' || doc.v !== 1 || !doc.users || typeof doc.users !== 'object') {
    throw new Error(objectUri + ': not a day totals object of version 1');
  }
  var summary = { users: {}, entries: 0, bad: 0, torn: false };
  Object.keys(doc.users).forEach(function (user) {
    var modes = doc.users[user] || {};
    var acc = { live: 0, dry_run: 0, entries: 0, images: 0, reserved: 0 };
    Object.keys(modes).forEach(function (mode) {
      var cell = modes[mode] || {};
      var micros = typeof cell.cost_micros === 'number' && isFinite(cell.cost_micros) ? Math.round(cell.cost_micros) : 0;
      acc[mode === 'dry_run' ? 'dry_run' : 'live'] += micros;
      var held = cell.reserved_pending_micros;
      if (mode !== 'dry_run' && typeof held === 'number' && isFinite(held) && held > 0) {
        acc.reserved += Math.round(held);
      }
      acc.entries += typeof cell.requests === 'number' ? cell.requests : 0;
      acc.images += typeof cell.images === 'number' ? cell.images : 0;
    });
    summary.users[user === '' ? '(unknown)' : user] = acc;
    summary.entries += acc.entries;
  });
  return summary;
}

/**
 * The Spend today message: one line per user (most live spend first), then the totals. Money
 * that pending batches hold is shown beside the spend: the budget counts both.
 */
function formatSpend_(summary, day, objectUri, budgetMicros) {
  var lines = ['Spend on ' + day + ' (UTC), from ' + objectUri];
  var users = Object.keys(summary.users).sort(function (a, b) {
    var d = summary.users[b].live - summary.users[a].live;
    return d !== 0 ? d : (a < b ? -1 : a > b ? 1 : 0);
  });
  if (!users.length) {
    lines.push('No spend recorded yet today.');
  }
  var live = 0;
  var dry = 0;
  var reserved = 0;
  users.forEach(function (user) {
    var u = summary.users[user];
    var held = u.reserved || 0;
    live += u.live;
    dry += u.dry_run;
    reserved += held;
    var line = user + ': $' + formatMicros_(u.live) + ' live of $' + formatMicros_(budgetMicros);
    if (held) {
      line += ' + $' + formatMicros_(held) + ' reserved by pending batches';
    }
    if (u.dry_run) {
      line += ', $' + formatMicros_(u.dry_run) + ' dry_run';
    }
    line += ' (' + u.entries + (u.entries === 1 ? ' entry, ' : ' entries, ') + u.images + (u.images === 1 ? ' image)' : ' images)');
    if (budgetMicros > 0 && u.live + held >= budgetMicros) {
      line += ' - budget reached';
    }
    lines.push(line);
  });
  lines.push('Total: $' + formatMicros_(live) + ' live, $' + formatMicros_(dry) + ' dry_run' +
    (reserved ? ', $' + formatMicros_(reserved) + ' reserved by pending batches' : ''));
  if (summary.bad) {
    lines.push(summary.bad + (summary.bad === 1 ? ' line' : ' lines') + ' could not be read (assetgen ledger verify tells more).');
  }
  if (summary.torn) {
    lines.push('The last line is still being written; it is not counted.');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Google services
// ---------------------------------------------------------------------------------------------

/** Fetches a request; returns the body text on 2xx, else throws "<what>: HTTP <code>: <message>". */
function fetchText_(request, what) {
  var response = UrlFetchApp.fetch(request.url, request.params);
  var code = response.getResponseCode();
  if (code >= 200 && code < 300) {
    return response.getContentText();
  }
  var error = new Error(what + ': HTTP ' + code + ': ' + httpErrorMessage_(response.getContentText()));
  error.httpCode = code;
  throw error;
}

/** fetchText_, then JSON.parse. */
function fetchJson_(request, what) {
  var text = fetchText_(request, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(what + ': the answer is not JSON');
  }
}

function loadSettings_() {
  return mergeSettings_(PropertiesService.getScriptProperties().getProperties());
}

/** The run Run batch last started from this spreadsheet, or null. */
function lastRun_() {
  var text = PropertiesService.getDocumentProperties().getProperty(LAST_RUN_PROPERTY_);
  return text ? JSON.parse(text) : null;
}

function requireLastRun_() {
  var run = lastRun_();
  if (!run) {
    throw new Error('no batch was started from this spreadsheet yet: use assetgen > Run batch first');
  }
  return run;
}

/** Runs a menu action; an error becomes an alert with its message (and a log line without secrets). */
function withUi_(title, action) {
  var ui = SpreadsheetApp.getUi();
  try {
    action(ui);
  } catch (e) {
    var message = e && e.message ? e.message : String(e);
    Logger.log('assetgen ' + title + ' failed: ' + message);
    ui.alert('assetgen: ' + title, message, ui.ButtonSet.OK);
  }
}

// ---------------------------------------------------------------------------------------------
// Menu
// ---------------------------------------------------------------------------------------------

function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu('assetgen')
    .addItem('Run batch', 'runBatch')
    .addItem('Check status', 'checkStatus')
    .addItem('Import results', 'importResults')
    .addItem('Spend today', 'spendToday')
    .addSeparator()
    .addItem('Settings', 'showSettings')
    .addToUi();
}

/** Menu: the active sheet -> CSV in GCS -> a Cloud Build running assetgen on it. */
function runBatch() {
  withUi_('Run batch', function (ui) {
    var settings = loadSettings_();
    checkRunSettings_(settings);
    var spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
    var sheet = spreadsheet.getActiveSheet();
    var csv = encodeCsv_(sheet.getDataRange().getValues(), spreadsheet.getSpreadsheetTimeZone());
    if (csv.rows === 0) {
      throw new Error('sheet "' + sheet.getName() + '" has a header but no rows');
    }
    if (settings.MODE === 'live') {
      var answer = ui.alert('assetgen: Run batch',
        'Generate images for ' + csv.rows + ' rows of "' + sheet.getName() + '" LIVE, spending up to $' +
        settings.DAILY_BUDGET_USD + ' a day?', ui.ButtonSet.YES_NO);
      if (answer !== ui.Button.YES) {
        return;
      }
    }
    var names = batchNames_(settings, sheet.getName(), new Date());
    var user = safeUser_(settings.USER || Session.getActiveUser().getEmail() || 'sheets');
    var token = ScriptApp.getOAuthToken();
    fetchText_(uploadRequest_(settings.BUCKET, names.batchObject, csv.text, token), 'upload ' + names.batchUri);
    var request = settings.TRIGGER_ID
      ? triggerRunRequest_(settings, triggerSubstitutions_(settings, names, user), token)
      : inlineBuildRequest_(settings, names, user, token);
    var buildId = buildIdFromOperation_(fetchJson_(request, 'start Cloud Build'));
    var run = {
      buildId: buildId,
      project: settings.PROJECT,
      region: settings.REGION,
      bucket: settings.BUCKET,
      batchUri: names.batchUri,
      resultsObject: names.resultsObject,
      resultsUri: names.resultsUri,
      rows: csv.rows,
      mode: settings.MODE,
      user: user,
      sheet: sheet.getName()
    };
    PropertiesService.getDocumentProperties().setProperty(LAST_RUN_PROPERTY_, JSON.stringify(run));
    spreadsheet.toast('Build ' + buildId + ' started: ' + csv.rows + ' rows, ' + settings.MODE +
      '. assetgen > Check status tells when it is done.', 'assetgen', 10);
  });
}

/** Menu: the state of the last build started from this spreadsheet. */
function checkStatus() {
  withUi_('Check status', function (ui) {
    var run = requireLastRun_();
    var build = fetchJson_(buildStatusRequest_(run.project, run.region, run.buildId, ScriptApp.getOAuthToken()),
      'build ' + run.buildId);
    ui.alert('assetgen: build status', describeBuild_(build, run), ui.ButtonSet.OK);
  });
}

/** Menu: the last run's results CSV -> sheet "Results". */
function importResults() {
  withUi_('Import results', function (ui) {
    var run = requireLastRun_();
    var text;
    try {
      text = fetchText_(downloadRequest_(run.bucket, run.resultsObject, ScriptApp.getOAuthToken()), 'results ' + run.resultsUri);
    } catch (e) {
      if (e.httpCode === 404) {
        throw new Error('no results at ' + run.resultsUri + ' yet: assetgen > Check status shows whether build ' +
          run.buildId + ' has finished');
      }
      throw e;
    }
    var table = resultsTable_(parseCsv_(text));
    var spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
    var sheet = spreadsheet.getSheetByName(RESULTS_SHEET_) || spreadsheet.insertSheet(RESULTS_SHEET_);
    sheet.clear();
    sheet.getRange(1, 1, table.values.length, table.width).setValues(table.values);
    sheet.getRange(2, table.costColumn, table.values.length - 1, 1).setNumberFormat('0.000000');
    sheet.setFrozenRows(1);
    spreadsheet.toast('Imported ' + table.rows + ' rows (' + describeStatuses_(table.statuses) + '), cost $' +
      formatMicros_(table.totalMicros) + '.', 'assetgen', 10);
  });
}

/** Menu: today's spend per user, from the day's totals object (never the whole ledger). */
function spendToday() {
  withUi_('Spend today', function (ui) {
    var settings = loadSettings_();
    requireSettings_(settings, ['BUCKET']);
    var day = Utilities.formatDate(new Date(), 'UTC', 'yyyy-MM-dd');
    var object = ledgerTotalsObject_(settings.LEDGER_PREFIX, day);
    var uri = 'gs://' + settings.BUCKET + '/' + object;
    var summary;
    try {
      summary = summaryFromTotals_(fetchText_(downloadRequest_(settings.BUCKET, object, ScriptApp.getOAuthToken()),
        'ledger totals ' + uri), uri);
    } catch (e) {
      if (e.httpCode !== 404) {
        throw e;
      }
      summary = { users: {}, entries: 0, bad: 0, torn: false }; // no run has finished today yet
    }
    var budget = decimalToMicros_(settings.DAILY_BUDGET_USD);
    ui.alert('assetgen: spend today', formatSpend_(summary, day, uri, budget), ui.ButtonSet.OK);
  });
}

/** Menu: show the settings and change some ("KEY=value ..."). */
function showSettings() {
  withUi_('Settings', function (ui) {
    var properties = PropertiesService.getScriptProperties();
    var current = mergeSettings_(properties.getProperties());
    var response = ui.prompt('assetgen: settings',
      describeSettings_(current) + '\n\nChange with KEY=value pairs separated by spaces; KEY= restores the default.',
      ui.ButtonSet.OK_CANCEL);
    if (response.getSelectedButton() !== ui.Button.OK) {
      return;
    }
    var change = parseSettingsInput_(response.getResponseText());
    if (change.errors.length) {
      throw new Error(change.errors.join('\n'));
    }
    if (Object.keys(change.set).length) {
      properties.setProperties(change.set);
    }
    change.clear.forEach(function (key) { properties.deleteProperty(key); });
    ui.alert('assetgen: settings', 'Saved.\n\n' + describeSettings_(mergeSettings_(properties.getProperties())),
      ui.ButtonSet.OK);
  });
}
