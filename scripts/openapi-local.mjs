#!/usr/bin/env node
// The API's OpenAPI document resolved for the local stack, as scripts/run.sh serves it at
// /openapi.json and /openapi.yaml (users-gateway --openapi-dir):
//
//   node scripts/openapi-local.mjs --base-url http://127.0.0.1:3000 --out DIR
//
// writes DIR/openapi.json and DIR/openapi.yaml. The source is infra/openapi.yaml, resolved by
// tests/package/infra-tool.mjs `resolve` exactly as for a deployed stack (its Fn::If / Fn::Sub /
// Fn::Join), with Auth NONE: the local gateway checks no credentials. Then, for the local stage:
//   - `servers` is the local base URL alone;
//   - every x-amazon-apigateway-* extension is dropped (the integration, the validators, the
//     gateway responses: API Gateway's build instructions, not the API), and with them the
//     path items that held nothing else (`/` and `/{proxy+}`, which only route to the function);
//   - the empty `securitySchemes` goes; `info.description` says where the document comes from.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function usage(msg) {
  if (msg) console.error(`openapi-local: ${msg}`);
  console.error('usage: node scripts/openapi-local.mjs --base-url URL --out DIR');
  process.exit(2);
}

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--base-url' || a === '--out') {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      out[a.slice(2)] = argv[++i];
    } else usage(`unknown option ${a}`);
  }
  if (!out['base-url'] || !out.out) usage();
  if (!/^https?:\/\/[^/]+$/.test(out['base-url'])) usage(`--base-url must be http(s)://host[:port], not ${out['base-url']}`);
  return out;
}

function dropApiGatewayExtensions(node) {
  if (Array.isArray(node)) return node.map(dropApiGatewayExtensions);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (!k.startsWith('x-amazon-apigateway-')) out[k] = dropApiGatewayExtensions(v);
  }
  return out;
}

export function localDocument(resolved, baseUrl) {
  const doc = dropApiGatewayExtensions(resolved);
  doc.servers = [{ url: baseUrl, description: 'The local stack (scripts/run.sh)' }];
  for (const [p, item] of Object.entries(doc.paths)) {
    if (!METHODS.some((m) => m in item)) delete doc.paths[p];
  }
  if (doc.components?.securitySchemes && Object.keys(doc.components.securitySchemes).length === 0) {
    delete doc.components.securitySchemes;
  }
  delete doc.security;
  doc.info.description = `${doc.info.description.trimEnd()}\n\n`
    + 'This copy is resolved for the local stack (scripts/run.sh): Auth NONE, as the local gateway '
    + 'checks no credentials, and API Gateway\'s x-amazon-apigateway-* extensions left out. The '
    + 'source is infra/openapi.yaml.\n';
  return doc;
}

function main() {
  const opt = args(process.argv.slice(2));
  const json = execFileSync(process.execPath, [path.join(REPO, 'tests', 'package', 'infra-tool.mjs'), 'resolve', '--auth', 'NONE'], {
    encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const doc = localDocument(JSON.parse(json), opt['base-url']);
  fs.mkdirSync(opt.out, { recursive: true });
  // Written beside and renamed, so a running gateway never serves half a document.
  for (const [name, text] of [
    ['openapi.json', `${JSON.stringify(doc, null, 2)}\n`],
    ['openapi.yaml', YAML.stringify(doc, { lineWidth: 0 })],
  ]) {
    const tmp = path.join(opt.out, `.${name}.${process.pid}`);
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, path.join(opt.out, name));
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
