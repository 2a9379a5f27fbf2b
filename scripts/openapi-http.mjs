#!/usr/bin/env node
// openapi-http.mjs — infra/openapi-http.yaml, the HTTP API's document (template parameter
// ApiType=HTTP), derived from infra/openapi.yaml, the REST API's: one source for the contract,
// two gateways.
//
//   node scripts/openapi-http.mjs            rewrites infra/openapi-http.yaml
//   node scripts/openapi-http.mjs --check    exits 1 when the file is not what it would write
//
// Paths, operations, parameters, schemas and the function's answers are the REST document's.
// What an HTTP API does differently (docs/decisions.md, "Secure by default, and an HTTP API"):
//   - integrations are payload 2.0 (`payloadFormatVersion: '2.0'`), at most 30 s;
//   - CORS is the API's own (`x-amazon-apigateway-cors`, from AllowedOrigins): it answers the
//     preflight itself, so the OPTIONS operations go;
//   - authentication: IAM (SigV4, the same scheme) or a JWT authorizer for a Cognito pool;
//     HTTP APIs have no API keys, so API_KEY is refused by the template's rules;
//   - API Gateway's own errors are HTTP APIs' `{"message": ...}`: they cannot be customised,
//     so the REST document's gateway responses and request validators go, and the `default`
//     answer says what those errors look like.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import YAML from 'yaml';

import { REPO, loadYaml } from './template.mjs';

const SOURCE = path.join(REPO, 'infra', 'openapi.yaml');
const TARGET = path.join(REPO, 'infra', 'openapi-http.yaml');

// The REST document's root extensions an HTTP API has no use for (or would warn about).
const REST_ONLY_ROOT = ['x-amazon-apigateway-api-key-source', 'x-amazon-apigateway-request-validators',
  'x-amazon-apigateway-request-validator', 'x-amazon-apigateway-gateway-responses',
  'x-amazon-apigateway-binary-media-types'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'trace', 'x-amazon-apigateway-any-method'];

// The preflight as the function answers it (src/op_read.c, include/cors.h), now the API's.
const CORS = {
  allowOrigins: { 'Fn::Split': [',', { Ref: 'AllowedOrigins' }] },
  allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  allowHeaders: ['content-type', 'authorization', 'x-amz-date', 'x-amz-security-token', 'if-match', 'idempotency-key'],
  exposeHeaders: ['etag', 'location'],
  maxAge: 600,
  allowCredentials: false,
};

const SECURITY = {
  'Fn::If': ['AuthIsNone', [], { 'Fn::If': ['AuthIsIam', [{ sigv4: [] }], [{ cognito: [] }]] }],
};

// A JWT authorizer for the Cognito pool: the stack's own (its app client is the audience) or
// CognitoUserPoolArn's (the audience: CognitoClientIds).
const COGNITO = {
  'Fn::If': ['AuthIsCognito', {
    type: 'oauth2',
    description: 'A JWT of the Cognito user pool (an ID token of one of its app clients: the audience)',
    flows: {},
    'x-amazon-apigateway-authorizer': {
      type: 'jwt',
      identitySource: '$request.header.Authorization',
      jwtConfiguration: {
        issuer: {
          'Fn::Join': ['', [
            'https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/',
            { 'Fn::If': ['CreateUserPool', { Ref: 'UsersUserPool' },
              { 'Fn::Select': [1, { 'Fn::Split': ['/', { Ref: 'CognitoUserPoolArn' }] }] }] },
          ]],
        },
        audience: {
          'Fn::If': ['CreateUserPool', [{ Ref: 'UsersUserPoolClient' }], { 'Fn::Split': [',', { Ref: 'CognitoClientIds' }] }],
        },
      },
    },
  }, { Ref: 'AWS::NoValue' }],
};

const GATEWAY_ERROR = {
  description: "An answer of API Gateway itself (authentication, throttling, an integration failure or timeout): an HTTP API's own `{\"message\": ...}`, which cannot be customised",
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['message'],
        properties: { message: { type: 'string', example: 'Unauthorized' } },
      },
    },
  },
};

export function httpDocument(rest) {
  const doc = structuredClone(rest);
  for (const k of REST_ONLY_ROOT) delete doc[k];
  doc.info.description = `${doc.info.description.trimEnd()}

As an HTTP API (payload 2.0): the API answers the CORS preflight itself and sets the CORS
headers of every answer from its own configuration; API Gateway's own errors (a missing or
invalid credential, throttling, an integration failure) are its \`{"message": ...}\` answers,
not problem documents.
`;
  doc.servers = [{
    url: 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}',
    description: 'A deployed stage (template output ApiUrl)',
    variables: {
      apiId: { default: 'abcdef1234', description: "The HTTP API's id" },
      region: { default: 'us-east-1', description: 'The AWS Region' },
      stage: { default: 'prod', description: 'The stage (template parameter StageName)' },
    },
  }];
  doc.tags = (doc.tags || []).filter((t) => t.name !== 'cors');
  doc['x-amazon-apigateway-cors'] = CORS;

  for (const item of Object.values(doc.paths)) {
    delete item.options;
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      delete op['x-amazon-apigateway-request-validator'];
      if (op.security !== undefined) op.security = structuredClone(SECURITY);
      const i = op['x-amazon-apigateway-integration'];
      op['x-amazon-apigateway-integration'] = {
        type: i.type,
        httpMethod: i.httpMethod,
        uri: i.uri,
        payloadFormatVersion: '2.0',
        timeoutInMillis: Math.min(i.timeoutInMillis ?? 30000, 30000),
      };
    }
  }

  const c = doc.components;
  c.responses.GatewayError = GATEWAY_ERROR;
  c.responses.TooManyRequests = {
    description: "Throttled by API Gateway (the route's throttling): an HTTP API's own `{\"message\": \"Too Many Requests\"}`",
    content: structuredClone(GATEWAY_ERROR.content),
  };
  const schemes = c.securitySchemes || {};
  delete schemes.api_key;
  schemes.cognito = COGNITO;
  c.securitySchemes = schemes;
  pruneUnusedComponents(doc);
  return doc;
}

// What only the OPTIONS operations used (the preflight's answer and its headers) goes too.
function pruneUnusedComponents(doc) {
  for (;;) {
    const refs = new Set(JSON.stringify(doc).match(/"#\/components\/[^"]+"/g)?.map((r) => r.slice(1, -1)) ?? []);
    let removed = 0;
    for (const [kind, items] of Object.entries(doc.components)) {
      if (kind === 'securitySchemes') continue;
      for (const name of Object.keys(items)) {
        if (!refs.has(`#/components/${kind}/${name}`)) {
          delete items[name];
          removed++;
        }
      }
    }
    if (removed === 0) return;
  }
}

export function render(doc) {
  const header = [
    '# GENERATED by scripts/openapi-http.mjs from infra/openapi.yaml: do not edit (edit the REST',
    '# document and rerun it; `node scripts/openapi-http.mjs --check` is part of the tests).',
    '# The HTTP API (template parameter ApiType=HTTP) as API Gateway imports it, included by',
    '# infra/template.yaml with AWS::Include like the REST document, so the same intrinsic',
    '# functions (long form) appear in it.',
  ].join('\n');
  return `${header}\n${YAML.stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = render(httpDocument(loadYaml(SOURCE, false)));
  if (process.argv.includes('--check')) {
    const now = fs.existsSync(TARGET) ? fs.readFileSync(TARGET, 'utf8') : '';
    if (now !== text) {
      console.error('infra/openapi-http.yaml is not what scripts/openapi-http.mjs derives from infra/openapi.yaml: run it');
      process.exit(1);
    }
    console.log('infra/openapi-http.yaml is up to date');
  } else {
    fs.writeFileSync(TARGET, text);
    console.log(`wrote ${path.relative(REPO, TARGET)}`);
  }
}
