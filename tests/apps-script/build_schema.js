'use strict';
// The request bodies the sheet sends to Cloud Build, checked against the v1 REST schema: the
// Build resource (projects.builds.create), RepoSource (projects.triggers.run) and
// RunBuildTriggerRequest (projects.locations.triggers.run). Only fields a caller may set are
// allowed (output-only ones such as id, status or createTime are refused too); enums and the
// Duration and resource-name formats are checked. Field lists copied from the Cloud Build REST
// reference, https://cloud.google.com/build/docs/api/reference/rest/v1/projects.builds#Build
// (and BuildStep, BuildOptions, Secrets, SecretManagerSecret, Volume, RepoSource); Google's
// documentation is CC BY 4.0.

const str = { type: 'string' };
const strs = { type: 'array', items: str };
const bool = { type: 'boolean' };
const int = { type: 'integer' };
const duration = { type: 'string', pattern: /^[0-9]+(\.[0-9]{1,9})?s$/ };
const map = { type: 'map', values: str };

const VOLUME = { type: 'object', fields: { name: str, path: str } };
const BUILD_STEP = {
  type: 'object',
  required: ['name'],
  fields: {
    name: str, env: strs, args: strs, dir: str, id: str, waitFor: strs, entrypoint: str, secretEnv: strs,
    volumes: { type: 'array', items: VOLUME }, timeout: duration, allowFailure: bool,
    allowExitCodes: { type: 'array', items: int }, script: str, automapSubstitutions: bool,
  },
};
const BUILD_OPTIONS = {
  type: 'object',
  fields: {
    sourceProvenanceHash: strs, requestedVerifyOption: { type: 'string', enum: ['NOT_VERIFIED', 'VERIFIED'] },
    machineType: str, diskSizeGb: str,
    substitutionOption: { type: 'string', enum: ['MUST_MATCH', 'ALLOW_LOOSE'] },
    dynamicSubstitutions: bool, automapSubstitutions: bool,
    logStreamingOption: { type: 'string', enum: ['STREAM_DEFAULT', 'STREAM_ON', 'STREAM_OFF'] },
    workerPool: str, pool: { type: 'object', fields: { name: str } },
    logging: { type: 'string', enum: ['LOGGING_UNSPECIFIED', 'LEGACY', 'GCS_ONLY', 'STACKDRIVER_ONLY', 'CLOUD_LOGGING_ONLY', 'NONE'] },
    env: strs, secretEnv: strs, volumes: { type: 'array', items: VOLUME },
    defaultLogsBucketBehavior: { type: 'string', enum: ['DEFAULT_LOGS_BUCKET_BEHAVIOR_UNSPECIFIED', 'REGIONAL_USER_OWNED_BUCKET', 'LEGACY_BUCKET'] },
  },
};
const SECRETS = {
  type: 'object',
  fields: {
    secretManager: {
      type: 'array',
      items: {
        type: 'object', required: ['versionName', 'env'],
        fields: { versionName: { type: 'string', pattern: /^projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+$/ }, env: str },
      },
    },
    inline: { type: 'array', items: { type: 'object', fields: { kmsKeyName: str, envMap: map } } },
  },
};
const BUILD = {
  type: 'object',
  required: ['steps'],
  fields: {
    source: { type: 'object', fields: { storageSource: { type: 'object' }, repoSource: { type: 'object' }, gitSource: { type: 'object' }, storageSourceManifest: { type: 'object' }, connectedRepository: { type: 'object' }, developerConnectConfig: { type: 'object' } } },
    steps: { type: 'array', items: BUILD_STEP, minItems: 1 },
    timeout: duration, images: strs, queueTtl: duration, artifacts: { type: 'object' }, logsBucket: str,
    options: BUILD_OPTIONS, substitutions: map, tags: { type: 'array', items: { type: 'string', pattern: /^[\w][\w.-]{0,127}$/ } },
    secrets: { type: 'array', items: { type: 'object' } },
    serviceAccount: { type: 'string', pattern: /^projects\/[^/]+\/serviceAccounts\/[^/]+$/ },
    availableSecrets: SECRETS, gitConfig: { type: 'object' }, dependencies: { type: 'array', items: { type: 'object' } },
  },
};
const REPO_SOURCE = {
  type: 'object',
  fields: {
    projectId: str, repoName: str, branchName: str, tagName: str, commitSha: str, dir: str, invertRegex: bool,
    substitutions: { type: 'map', values: str, keys: /^_[A-Z0-9_]+$/ },
  },
};
const RUN_TRIGGER_REQUEST = { type: 'object', required: ['projectId', 'triggerId'], fields: { projectId: str, triggerId: str, source: REPO_SOURCE } };

/** The problems of value against schema, as "<path>: <what>" strings; [] when it conforms. */
function check(value, schema, path) {
  path = path || '$';
  const out = [];
  const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value;
  const want = schema.type;
  if (want === 'map' || want === 'object') {
    if (kind !== 'object') {
      return [path + ': expected an object, got ' + kind];
    }
    if (want === 'map') {
      for (const [k, v] of Object.entries(value)) {
        if (schema.keys && !schema.keys.test(k)) {
          out.push(path + ': key "' + k + '" does not match ' + schema.keys);
        }
        out.push(...check(v, schema.values, path + '.' + k));
      }
      return out;
    }
    for (const r of schema.required || []) {
      if (!(r in value)) {
        out.push(path + ': required field "' + r + '" is missing');
      }
    }
    if (schema.fields) {
      for (const [k, v] of Object.entries(value)) {
        if (!(k in schema.fields)) {
          out.push(path + ': unknown field "' + k + '"');
        } else {
          out.push(...check(v, schema.fields[k], path + '.' + k));
        }
      }
    }
    return out;
  }
  if (want === 'array') {
    if (kind !== 'array') {
      return [path + ': expected an array, got ' + kind];
    }
    if (schema.minItems && value.length < schema.minItems) {
      out.push(path + ': at least ' + schema.minItems + ' item(s) expected');
    }
    value.forEach((v, i) => out.push(...check(v, schema.items, path + '[' + i + ']')));
    return out;
  }
  if (want === 'integer' ? kind !== 'integer' : kind !== want) {
    return [path + ': expected ' + want + ', got ' + kind];
  }
  if (schema.enum && !schema.enum.includes(value)) {
    out.push(path + ': "' + value + '" is not one of ' + schema.enum.join(', '));
  }
  if (schema.pattern && !schema.pattern.test(value)) {
    out.push(path + ': "' + value + '" does not match ' + schema.pattern);
  }
  return out;
}

module.exports = { check, BUILD, REPO_SOURCE, RUN_TRIGGER_REQUEST };
