#!/usr/bin/env node
// A client collection and a curl cheat-sheet, generated from the API's OpenAPI document:
//
//   node scripts/collection.mjs [--out DIR]     (default docs/)
//
// writes DIR/users-api.postman_collection.json (Postman collection v2.1, which Postman,
// Insomnia, Bruno and Hoppscotch import) and DIR/curl.md. The source is infra/openapi.yaml,
// resolved by tests/package/infra-tool.mjs `resolve` as for a deployed stack; the output is
// deterministic, so regenerating it gives no diff unless the document changed (CTest
// workbench_collection checks that).
//
// The collection has one folder per Auth mode of the template, each with every operation
// (the CORS preflights left out), and the auth set on the folder:
//   local stack (no auth)   none: scripts/run.sh, or a stack deployed with Auth=NONE
//   Auth=API_KEY            apikey: the header the document's api_key scheme names
//   Auth=COGNITO            bearer: a Cognito ID token
//   Auth=IAM                awsv4: SigV4 for execute-api
// Variables: baseUrl (http://127.0.0.1:3000; a deployed stage's ApiUrl for the others),
// userId, etag, and the credentials (apiKey, idToken, awsAccessKeyId, awsSecretAccessKey,
// awsSessionToken, awsRegion). A create stores the new user's id and ETag in userId and etag.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOCAL = 'http://127.0.0.1:3000';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function resolve(auth) {
  return JSON.parse(execFileSync(process.execPath, [path.join(REPO, 'tests', 'package', 'infra-tool.mjs'), 'resolve', '--auth', auth], {
    encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'],
  }));
}

function deref(doc, node) {
  while (node && node.$ref) node = node.$ref.slice(2).split('/').reduce((o, k) => o[k], doc);
  return node;
}

// A stable id from the text it names, so that regenerating changes nothing.
function id(text) {
  const h = crypto.createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function operations(doc) {
  const ops = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op?.operationId) continue;
      const params = [...(item.parameters || []), ...(op.parameters || [])].map((x) => deref(doc, x));
      const content = op.requestBody?.content?.['application/json'];
      const example = content?.example ?? deref(doc, content?.schema)?.example;
      ops.push({ method: m.toUpperCase(), path: p, op, params, example });
    }
  }
  return ops;
}

const PLACEHOLDER = { userId: '{{userId}}', 'If-Match': '{{etag}}', 'Idempotency-Key': '{{$guid}}' };

function request(o, auth) {
  const segs = o.path.split('/').filter(Boolean).map((s) => s.replace(/^\{(.+)\}$/, '{{$1}}'));
  const query = o.params.filter((x) => x.in === 'query').map((x) => ({
    key: x.name, value: String(x.example ?? x.schema?.default ?? ''), disabled: true, description: x.description,
  }));
  const header = o.params.filter((x) => x.in === 'header').map((x) => ({
    key: x.name, value: PLACEHOLDER[x.name] ?? String(x.example ?? ''), disabled: !x.required && x.name !== 'If-Match',
    description: x.description,
  }));
  if (o.example !== undefined) header.unshift({ key: 'Content-Type', value: 'application/json' });
  const req = {
    method: o.method,
    header,
    url: {
      raw: `{{baseUrl}}/${segs.join("/")}`, // the query parameters are all optional: listed, disabled
      host: ['{{baseUrl}}'],
      path: segs,
      ...(query.length ? { query } : {}),
    },
    description: `${o.op.summary}.\n\n${(o.op.description || '').trim()}`.trim(),
  };
  if (o.example !== undefined) req.body = { mode: 'raw', raw: JSON.stringify(o.example, null, 2), options: { raw: { language: 'json' } } };
  const item = { name: `${o.op.summary} (${o.op.operationId})`, request: req };
  if (o.op.operationId === 'createUser') {
    item.event = [{
      listen: 'test',
      script: {
        type: 'text/javascript',
        exec: [
          'if (pm.response.code === 201) {',
          '  pm.collectionVariables.set("userId", pm.response.json().userId);',
          '  pm.collectionVariables.set("etag", pm.response.headers.get("ETag"));',
          '}',
        ],
      },
    }];
  }
  return { id: id(`${auth}:${o.op.operationId}`), ...item };
}

function collection(doc, apiKeyHeader) {
  const ops = operations(doc);
  const modes = [
    ['local stack (no auth)', 'NONE', { type: 'noauth' }],
    ['Auth=API_KEY', 'API_KEY', { type: 'apikey', apikey: [
      { key: 'key', value: apiKeyHeader, type: 'string' },
      { key: 'value', value: '{{apiKey}}', type: 'string' },
      { key: 'in', value: 'header', type: 'string' }] }],
    ['Auth=COGNITO', 'COGNITO', { type: 'bearer', bearer: [{ key: 'token', value: '{{idToken}}', type: 'string' }] }],
    ['Auth=IAM', 'IAM', { type: 'awsv4', awsv4: [
      { key: 'accessKey', value: '{{awsAccessKeyId}}', type: 'string' },
      { key: 'secretKey', value: '{{awsSecretAccessKey}}', type: 'string' },
      { key: 'sessionToken', value: '{{awsSessionToken}}', type: 'string' },
      { key: 'region', value: '{{awsRegion}}', type: 'string' },
      { key: 'service', value: 'execute-api', type: 'string' }] }],
  ];
  const variable = [
    ['baseUrl', LOCAL, 'The local stack (scripts/run.sh); for a deployed stage, its ApiUrl output'],
    ['userId', '', 'Set by a create'], ['etag', '', 'Set by a create; send it back in If-Match'],
    ['apiKey', '', 'Auth=API_KEY: the key (aws apigateway get-api-key --include-value)'],
    ['idToken', '', 'Auth=COGNITO: a Cognito ID token'],
    ['awsAccessKeyId', '', 'Auth=IAM'], ['awsSecretAccessKey', '', 'Auth=IAM'], ['awsSessionToken', '', 'Auth=IAM'],
    ['awsRegion', 'us-east-1', 'Auth=IAM: the stack\'s Region'],
  ].map(([key, value, description]) => ({ key, value, type: 'string', description }));
  return {
    info: {
      _postman_id: id(`${doc.info.title} ${doc.info.version}`),
      name: `${doc.info.title} ${doc.info.version}`,
      description: 'Generated from infra/openapi.yaml by scripts/collection.mjs; do not edit (regenerate). '
        + 'One folder per Auth mode of the template; baseUrl is the local stack unless you set it to a stage\'s ApiUrl.',
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    item: modes.map(([name, auth, a]) => ({
      name, description: `Auth ${auth}`, auth: a, item: ops.map((o) => request(o, auth)),
    })),
    variable,
  };
}

function shellQuote(s) {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

function cheatSheet(doc, apiKeyHeader) {
  const lines = [
    '# curl cheat-sheet: the Users API',
    '',
    '<!-- Generated from infra/openapi.yaml by scripts/collection.mjs: do not edit, regenerate. -->',
    '',
    'Against the local stack (`scripts/run.sh`); for a deployed stage set `BASE` to its `ApiUrl`',
    'output and add the header of its Auth mode (below). Every answer is JSON; errors are problem',
    'documents (`application/problem+json`). `-i` shows the headers (`Location`, `ETag`).',
    '',
    '```sh',
    `BASE=${LOCAL}`,
    '```',
    '',
  ];
  for (const o of operations(doc)) {
    const url = `$BASE${o.path.replace('{userId}', '$USER_ID')}`;
    const parts = [`curl -i -X ${o.method} "${url}"`];
    for (const x of o.params.filter((p) => p.in === 'header')) {
      if (x.name === 'If-Match') parts.push(`-H "If-Match: $ETAG"`);
      else if (x.name === 'Idempotency-Key') parts.push(`-H "Idempotency-Key: $(uuidgen)"`);
    }
    if (o.example !== undefined) {
      parts.push(`-H 'Content-Type: application/json'`);
      parts.push(`-d ${shellQuote(JSON.stringify(o.example))}`);
    }
    lines.push(`## ${o.op.summary} — \`${o.method} ${o.path}\` (${o.op.operationId})`, '');
    const query = o.params.filter((x) => x.in === 'query');
    if (query.length) lines.push(`Query: ${query.map((x) => `\`${x.name}\``).join(', ')}.`, '');
    lines.push('```sh', parts.join(' \\\n     '), '```', '');
    if (o.op.operationId === 'createUser') {
      lines.push('Keep the new id and ETag for the next calls:', '', '```sh',
        'USER_ID=...   # "userId" of the answer (or the last segment of Location)',
        'ETAG=\'"1"\'    # the answer\'s ETag header, quotes included',
        '```', '');
    }
  }
  lines.push('## Auth modes of a deployed stage', '',
    '| Auth | add to each call |', '| --- | --- |',
    '| `NONE` (and the local stack) | nothing |',
    `| \`API_KEY\` | \`-H "${apiKeyHeader}: $API_KEY"\` |`,
    '| `COGNITO` | `-H "Authorization: Bearer $ID_TOKEN"` |',
    '| `IAM` | `--aws-sigv4 "aws:amz:$AWS_REGION:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-security-token: $AWS_SESSION_TOKEN"` (curl 7.75 or later) |',
    '');
  return lines.join('\n');
}

function main() {
  const argv = process.argv.slice(2);
  let out = path.join(REPO, 'docs');
  if (argv[0] === '--out' && argv[1]) out = argv[1];
  else if (argv.length) {
    console.error('usage: node scripts/collection.mjs [--out DIR]');
    process.exit(2);
  }
  const doc = resolve('NONE');
  const apiKeyHeader = resolve('API_KEY').components.securitySchemes.api_key.name;
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'users-api.postman_collection.json'), `${JSON.stringify(collection(doc, apiKeyHeader), null, 2)}\n`);
  fs.writeFileSync(path.join(out, 'curl.md'), cheatSheet(doc, apiKeyHeader));
}

main();
