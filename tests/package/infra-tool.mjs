#!/usr/bin/env node
// infra-tool.mjs — offline checks of infra/ with real validators (devDependencies in the root
// package.json; `npm ci` installs them):
//
//   node tests/package/infra-tool.mjs validate [--sam-schema FILE]
//       1. AWS's CloudFormation validator (@aws/cloudformation-validate, the cfn-lint rules and
//          the resource provider schemas) on infra/template.yaml, with the AWS::Include of
//          infra/openapi.yaml inlined and SAM's `<Api>.Stage` reference spelled as the stage
//          name, since neither tool runs the SAM transform. Any WARN, ERROR or FATAL fails.
//       2. Every AWS::Serverless::* resource against the SAM specification's JSON Schema
//          (shared/schemas/sam/sam.schema.json, draft-04, with ajv-draft-04), which step 1
//          does not check.
//       3. infra/openapi.yaml (REST) and infra/openapi-http.yaml (HTTP, which must be what
//          scripts/openapi-http.mjs derives from the REST one) resolved as CloudFormation would
//          (Fn::If / Fn::Sub / Fn::Join ..., for each combination of ApiType and Auth the rules
//          allow), each result linted by Redocly (recommended rules, tests/package/redocly.yaml):
//          any problem fails; no operation public unless Auth=NONE.
//       4. What no generic validator knows: the IAM policy is the least privilege the issue
//          asks for, the table and function settings, every API Gateway answer in the problem
//          shape with CORS headers, every method proxied to the function; the observability
//          settings (Lambda drops no log line, the metrics' environment), the seed's alarms and
//          thresholds by default and the strict ones only with AlarmProfile=strict, the
//          dashboard resolved to JSON with the function's metrics per operation and X-Ray links.
//   node tests/package/infra-tool.mjs resolve [--auth NONE|API_KEY|IAM|COGNITO] [--api-type REST|HTTP]
//       Prints the resolved OpenAPI document (JSON): infra/openapi.yaml for REST (the default),
//       infra/openapi-http.yaml for HTTP.
//   node tests/package/infra-tool.mjs tables [--table-name NAME]   (the same as scripts/template.mjs tables)
//       Prints the template's DynamoDB tables as CreateTable requests (keys, attribute
//       definitions, indexes, billing) with their TTL, for the parameter TableName (default
//       its default), and the function's environment variables that name them, so that a
//       test creates in DynamoDB Local exactly what the stack deploys.
//   node tests/package/infra-tool.mjs check-responses DOC.json RESPONSES.json
//       Checks recorded answers ({method, path, status, headers, body}) against the document:
//       the status is documented, documented headers are present, the body matches the
//       response schema (ajv). Used by test_openapi_contract.py.
// Exit status 0 when everything holds, 1 otherwise; the last line is `N passed, N failed`.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { RegoEngine, TemplateFile, version as cfnValidateVersion } from '@aws/cloudformation-validate';
import Ajv from 'ajv';
import Ajv04 from 'ajv-draft-04';

import { httpDocument, render as renderOpenapi } from '../../scripts/openapi-http.mjs';
import {
  PSEUDO, REPO, TEMPLATE, loadYaml, evaluateConditions, parameterValues, resolveIntrinsics, tablesForLocal,
} from '../../scripts/template.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const OPENAPI = { REST: path.join(REPO, 'infra', 'openapi.yaml'), HTTP: path.join(REPO, 'infra', 'openapi-http.yaml') };
// Every combination of ApiType and Auth the template's rules allow, COGNITO with an existing
// pool and with the stack's own; the template's default (IAM) first.
const COMBINATIONS = [
  ['REST', 'IAM'], ['REST', 'API_KEY'], ['REST', 'COGNITO'], ['REST', 'COGNITO', 'own pool'], ['REST', 'NONE'],
  ['HTTP', 'IAM'], ['HTTP', 'COGNITO'], ['HTTP', 'COGNITO', 'own pool'], ['HTTP', 'NONE'],
].map(([apiType, auth, pool]) => ({ apiType, auth, ownPool: Boolean(pool), name: `ApiType=${apiType} Auth=${auth}${pool ? ' (own pool)' : ''}` }));
const AUTHS = ['NONE', 'API_KEY', 'IAM', 'COGNITO'];
const SCHEMES = { API_KEY: 'api_key', IAM: 'sigv4', COGNITO: 'cognito' };
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:users-api-UsersFunction';
const ALIAS_ARN = `${FUNCTION_ARN}:live`;
const COGNITO_ARN = 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Example1';
const OWN_POOL = { UsersUserPool: 'us-east-1_OwnPool1', UsersUserPoolClient: 'ownclient1234567890',
  'UsersUserPool.Arn': 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_OwnPool1' };

// ---- reporting -------------------------------------------------------------------------------

let passed = 0;
let failed = 0;
function check(name, problems) {
  const list = problems.filter(Boolean);
  if (list.length === 0) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}`);
    for (const p of list) console.log(`       ${p}`);
  }
}
function finish(summary = (p, f) => `${p} passed, ${f} failed`) {
  console.log(summary(passed, failed));
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

// The template's YAML, parameters, conditions and intrinsic functions: scripts/template.mjs.

function resolvedOpenapi(template, { apiType = 'REST', auth, ownPool = false }, extraParams = {}) {
  const params = parameterValues(template, {
    ApiType: apiType,
    Auth: auth,
    ...(auth === 'COGNITO' && !ownPool ? { CognitoUserPoolArn: COGNITO_ARN, CognitoClientIds: 'client1,client2' } : {}),
    ...extraParams,
  });
  const ctx = {
    params,
    conditions: evaluateConditions(template, params),
    attributes: { 'UsersFunction.Arn': FUNCTION_ARN, ...OWN_POOL },
  };
  return resolveIntrinsics(loadYaml(OPENAPI[apiType], false), ctx);
}

// ---- 1. AWS's CloudFormation validator ---------------------------------------------------------

function templateForCfnValidator(template) {
  const t = structuredClone(template);
  const apis = Object.entries(t.Resources).filter(([, r]) => ['AWS::Serverless::Api', 'AWS::Serverless::HttpApi'].includes(r.Type));
  for (const [, api] of apis) {
    const body = api.Properties?.DefinitionBody;
    const include = body?.['Fn::Transform'];
    if (include?.Name === 'AWS::Include') {
      api.Properties.DefinitionBody = loadYaml(path.resolve(path.dirname(TEMPLATE), include.Parameters.Location), false);
    }
  }
  // SAM's `<Api>.Stage` is the stage the transform generates; its Ref is the stage name.
  const stageOf = Object.fromEntries(apis.map(([id, r]) => [`${id}.Stage`, r.Properties.StageName]));
  // SAM's AutoPublishAlias: `<Function>.Alias` is the alias's ARN; the CodeDeploy application
  // and deployment group exist only once the transform has run (their names stand in).
  const aliasOf = Object.fromEntries(Object.entries(t.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function' && r.Properties?.AutoPublishAlias)
    .map(([id, r]) => [`${id}.Alias`, { 'Fn::Sub': `\${${id}.Arn}:${r.Properties.AutoPublishAlias}` }]));
  const generated = new Set(['ServerlessDeploymentApplication', ...Object.keys(aliasOf).map((a) => `${a.split('.')[0]}DeploymentGroup`)]);
  const rewrite = (n) => {
    if (Array.isArray(n)) return n.map(rewrite);
    if (!n || typeof n !== 'object') return n;
    if (typeof n.Ref === 'string' && n.Ref in stageOf) return structuredClone(stageOf[n.Ref]);
    if (typeof n.Ref === 'string' && n.Ref in aliasOf) return structuredClone(aliasOf[n.Ref]);
    if (typeof n.Ref === 'string' && generated.has(n.Ref)) return `sam-generated-${n.Ref}`;
    if (typeof n['Fn::Sub'] === 'string') {
      let text = n['Fn::Sub'];
      for (const [ref, stage] of Object.entries(stageOf)) if (stage?.Ref) text = text.split(`\${${ref}}`).join(`\${${stage.Ref}}`);
      return { 'Fn::Sub': text };
    }
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, rewrite(v)]));
  };
  return rewrite(t);
}

function runCfnValidator(template, tmp) {
  const file = path.join(tmp, 'template.for-validator.json');
  fs.writeFileSync(file, JSON.stringify(templateForCfnValidator(template), null, 1));
  const engine = new RegoEngine();
  try {
    const report = engine.validateStandard(new TemplateFile(file), { strict: true, severityLevel: 'INFO' });
    const problems = [];
    const excused = [];
    for (const d of report.diagnostics) {
      if (!['WARN', 'ERROR', 'FATAL'].includes(d.severity)) continue;
      // This validator's W1001 does not follow an output's Fn::If (a false positive: the
      // template's outputs pick the REST or the HTTP API by ApiType). Checked instead below, by
      // resolving every output for every combination.
      // Likewise its F3033 on the tables' alarm dimensions: it fills ExistingTableName with its
      // default '' in the Fn::If branch taken only when ExistingTableName is not empty.
      if (d.ruleId === 'F3033' && /Table\w*Alarm$/.test(d.entity?.logicalId ?? '') && String(d.propertyPath).endsWith('Dimensions.0.Value')
        && String(d.message).includes('length 0')) {
        continue;
      }
      if (d.ruleId === 'W1001' && String(d.propertyPath).startsWith('Outputs/') && String(d.propertyPath).includes('Fn::If')) {
        excused.push(d);
        continue;
      }
      problems.push(`${d.severity} ${d.ruleId} ${d.entity?.logicalId ?? ''} ${d.propertyPath ?? ''}: ${d.message}`);
    }
    if (report.status !== 'OK' && problems.length === 0 && excused.length === 0) problems.push(`validator status ${report.status}`);
    checkOutputReferences(template);
    const info = report.diagnostics.filter((d) => !['WARN', 'ERROR', 'FATAL'].includes(d.severity)).length;
    console.log(`     @aws/cloudformation-validate ${cfnValidateVersion()} (${report.metadata.cfnLintVersion.split('@').pop()} rules): ` +
      `${report.metadata.rulesEvaluated} rules, ${report.metadata.resourcesScanned} resources, ${info} informational notes`);
    check('CloudFormation validator: no warning or error', problems);
  } finally {
    engine.free();
  }
}

// Every output, for every combination of ApiType and Auth (and each alarm profile), refers
// only to resources that combination creates: what W1001 would say if it followed Fn::If.
function checkOutputReferences(template) {
  const R = template.Resources;
  const problems = [];
  for (const combo of COMBINATIONS) {
    const params = parameterValues(template, { ApiType: combo.apiType, Auth: combo.auth,
      ...(combo.auth === 'COGNITO' && !combo.ownPool ? { CognitoUserPoolArn: COGNITO_ARN, CognitoClientIds: 'a' } : {}) });
    const cond = evaluateConditions(template, params);
    const exists = (id) => id in R && (!R[id].Condition || cond[R[id].Condition]);
    const walk = (n, where) => {
      if (Array.isArray(n)) return n.forEach((x) => walk(x, where));
      if (!n || typeof n !== 'object') return undefined;
      if ('Fn::If' in n) return walk(cond[n['Fn::If'][0]] ? n['Fn::If'][1] : n['Fn::If'][2], where);
      const refs = [];
      if (typeof n.Ref === 'string') refs.push(n.Ref);
      if (n['Fn::GetAtt']) refs.push([].concat(n['Fn::GetAtt'])[0].split('.')[0]);
      const sub = n['Fn::Sub'];
      if (sub) for (const m of String(Array.isArray(sub) ? sub[0] : sub).matchAll(/\$\{([A-Za-z0-9]+)/g)) refs.push(m[1]);
      for (const id of refs) {
        if (Array.isArray(sub) && sub[1] && id in sub[1]) continue;
        if (id in R && !exists(id)) problems.push(`${combo.name}: ${where} refers to ${id}, which this combination does not create`);
      }
      return Object.values(n).forEach((x) => walk(x, where));
    };
    for (const [name, o] of Object.entries(template.Outputs || {})) {
      if (!o.Condition || cond[o.Condition]) walk(o.Value, `output ${name}`);
    }
  }
  check('template: every output refers only to resources its combination creates (W1001, followed through Fn::If)', problems);
}

// ---- 2. SAM's JSON Schema ----------------------------------------------------------------------

function runSamSchema(template, samSchemaFile) {
  if (!fs.existsSync(samSchemaFile)) {
    check('SAM schema', [`${samSchemaFile} is missing (pass --sam-schema or set USERS_SHARED_DIR)`]);
    return;
  }
  const schema = JSON.parse(fs.readFileSync(samSchemaFile, 'utf8'));
  const ajv = new Ajv04({ strict: false, allErrors: true });
  ajv.addSchema(schema, 'sam');
  const serverless = Object.entries(template.Resources).filter(([, r]) => r.Type.startsWith('AWS::Serverless::'));
  for (const [id, resource] of serverless) {
    const kind = resource.Type.split('::')[2].toLowerCase();
    const ref = `sam#/definitions/samtranslator__internal__schema_source__aws_serverless_${kind}__Resource`;
    const validate = ajv.getSchema(ref);
    if (!validate) {
      check(`SAM schema: ${id}`, [`no definition for ${resource.Type} in ${samSchemaFile}`]);
      continue;
    }
    const ok = validate(resource);
    check(`SAM schema: ${id} (${resource.Type})`,
      ok ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`));
  }
  const whole = ajv.getSchema('sam');
  const ok = whole({ Resources: template.Resources, ...(template.Globals ? { Globals: template.Globals } : {}) });
  check('SAM schema: the whole Resources section', ok ? [] : whole.errors.slice(0, 10).map((e) => `${e.instancePath} ${e.message}`));
}

// ---- 3. Redocly on each resolved OpenAPI document ------------------------------------------------

function runRedocly(template, tmp) {
  const derived = renderOpenapi(httpDocument(loadYaml(OPENAPI.REST, false)));
  check('infra/openapi-http.yaml is what scripts/openapi-http.mjs derives from infra/openapi.yaml',
    fs.readFileSync(OPENAPI.HTTP, 'utf8') === derived ? [] : ['it is not: run node scripts/openapi-http.mjs']);
  const redocly = path.join(REPO, 'node_modules', '.bin', 'redocly');
  for (const combo of COMBINATIONS) {
    let doc;
    try {
      doc = resolvedOpenapi(template, combo);
    } catch (e) {
      check(`OpenAPI (${combo.name}) resolves`, [e.message]);
      continue;
    }
    const file = path.join(tmp, `openapi-${combo.apiType}-${combo.auth}${combo.ownPool ? '-own' : ''}.json`);
    fs.writeFileSync(file, JSON.stringify(doc, null, 1));
    const r = spawnSync(redocly, ['lint', file, '--config', path.join(HERE, 'redocly.yaml'), '--format', 'json',
      '--max-problems', '1000', '--lint-config', 'error'], {
      encoding: 'utf8',
      // Offline and quiet: no usage telemetry, no update check.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    let report;
    try {
      report = JSON.parse(r.stdout);
    } catch {
      check(`Redocly lint (${combo.name})`, [`redocly did not run (status ${r.status}): ${r.stderr.slice(-2000)}`]);
      continue;
    }
    const problems = (report.problems || []).map((p) =>
      `${p.severity} ${p.ruleId}: ${p.message} at ${(p.location || []).map((l) => l.pointer).join(', ')}`);
    if (r.status !== 0 && problems.length === 0) problems.push(`redocly exited ${r.status}`);
    check(`Redocly lint, recommended rules (${combo.name})`, problems);
    checkOpenapiShape(doc, combo);
  }
}

// ---- 4. The project's own rules ----------------------------------------------------------------

function operations(doc) {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(item)) {
      if (HTTP_METHODS.includes(m) || m === 'x-amazon-apigateway-any-method') out.push([p, m, op]);
    }
  }
  return out;
}

// Per combination of ApiType and Auth: every operation goes to the function, and none is
// public unless Auth=NONE (a REST API's OPTIONS, the CORS preflight, is never authenticated; an
// HTTP API answers the preflight itself and has no OPTIONS operation).
function checkOpenapiShape(doc, { apiType, auth, ownPool, name }) {
  const problems = [];
  const http = apiType === 'HTTP';
  for (const [p, m, op] of operations(doc)) {
    const i = op['x-amazon-apigateway-integration'];
    if (!i || i.type !== 'aws_proxy' || i.httpMethod !== 'POST' || !String(i.uri).includes(`/functions/${ALIAS_ARN}/invocations`)) {
      problems.push(`${m} ${p}: not a Lambda proxy integration of UsersFunction's alias live: ${JSON.stringify(i)}`);
    }
    if (i && !(i.timeoutInMillis <= (http ? 30000 : 29000))) problems.push(`${m} ${p}: integration timeout over the gateway's limit`);
    if (i && http && i.payloadFormatVersion !== '2.0') problems.push(`${m} ${p}: payloadFormatVersion ${i.payloadFormatVersion}, expected 2.0`);
    if (i && !http && i.payloadFormatVersion !== undefined) problems.push(`${m} ${p}: a REST integration with payloadFormatVersion`);
    if (http && m === 'options') problems.push(`${m} ${p}: an HTTP API answers the preflight itself (x-amazon-apigateway-cors)`);
    const want = m === 'options' || auth === 'NONE' ? [] : [{ [SCHEMES[auth]]: [] }];
    if (JSON.stringify(op.security) !== JSON.stringify(want)) {
      problems.push(`${m} ${p}: security ${JSON.stringify(op.security)}, expected ${JSON.stringify(want)}`);
    }
    if (auth !== 'NONE' && m !== 'options' && !(op.security?.length > 0)) problems.push(`${m} ${p}: public with Auth=${auth}`);
  }
  const schemes = doc.components.securitySchemes || {};
  const wantSchemes = auth === 'NONE' ? [] : [SCHEMES[auth]];
  if (JSON.stringify(Object.keys(schemes)) !== JSON.stringify(wantSchemes)) problems.push(`security schemes ${Object.keys(schemes)}, expected ${wantSchemes}`);
  if (auth === 'COGNITO') {
    const a = schemes.cognito?.['x-amazon-apigateway-authorizer'] || {};
    const pool = ownPool ? OWN_POOL['UsersUserPool.Arn'] : COGNITO_ARN;
    if (http) {
      const poolId = pool.split('/')[1];
      const audience = ownPool ? [OWN_POOL.UsersUserPoolClient] : ['client1', 'client2'];
      if (a.type !== 'jwt' || a.identitySource !== '$request.header.Authorization'
        || a.jwtConfiguration?.issuer !== `https://cognito-idp.us-east-1.amazonaws.com/${poolId}`
        || JSON.stringify(a.jwtConfiguration?.audience) !== JSON.stringify(audience)) {
        problems.push(`JWT authorizer ${JSON.stringify(a)}: expected the pool ${poolId} and the audience ${audience}`);
      }
    } else if (a.type !== 'cognito_user_pools' || JSON.stringify(a.providerARNs) !== JSON.stringify([pool])) {
      problems.push(`Cognito authorizer ${JSON.stringify(a)}: expected the pool ${pool}`);
    }
  }
  for (const p of ['/users', '/users/{userId}', '/', '/{proxy+}']) {
    if (!doc.paths[p]?.['x-amazon-apigateway-any-method']) problems.push(`${p}: no x-amazon-apigateway-any-method (the function must answer 404/405)`);
  }
  check(`OpenAPI (${name}): every method proxied to the function, security as Auth says, nothing public unless NONE`, problems);
  if (http) {
    checkHttpCors(doc, name);
    return;
  }

  // API Gateway's own answers: the problem shape and the CORS headers, whatever the type.
  const ajv = openapiAjv(doc);
  const validateProblem = ajv.getSchema('openapi#/components/schemas/Problem');
  const gw = doc['x-amazon-apigateway-gateway-responses'] || {};
  const gwProblems = [];
  for (const t of ['DEFAULT_4XX', 'DEFAULT_5XX', 'BAD_REQUEST_BODY', 'BAD_REQUEST_PARAMETERS', 'UNAUTHORIZED',
    'ACCESS_DENIED', 'MISSING_AUTHENTICATION_TOKEN', 'THROTTLED', 'INTEGRATION_TIMEOUT']) {
    if (!gw[t]) gwProblems.push(`gateway response ${t} is missing`);
  }
  for (const [t, r] of Object.entries(gw)) {
    const h = r.responseParameters || {};
    for (const [name, want] of [['Access-Control-Allow-Origin', null], ['Access-Control-Expose-Headers', "'ETag, Location'"],
      ['Cache-Control', "'no-store'"], ['X-Content-Type-Options', "'nosniff'"], ['Content-Type', "'application/problem+json'"]]) {
      const v = h[`gatewayresponse.header.${name}`];
      if (v === undefined || (want && v !== want)) gwProblems.push(`${t}: header ${name} is ${v}, expected ${want ?? 'set'}`);
    }
    const template = r.responseTemplates?.['application/json'];
    if (typeof template !== 'string') {
      gwProblems.push(`${t}: no application/json response template`);
      continue;
    }
    const sample = template.replace('$context.error.messageString', '"Missing Authentication Token"')
      .replace('$context.requestId', 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef');
    let body;
    try {
      body = JSON.parse(sample);
    } catch (e) {
      gwProblems.push(`${t}: the response template is not JSON once filled in: ${e.message}`);
      continue;
    }
    if (!validateProblem(body)) gwProblems.push(`${t}: not a problem document: ${ajv.errorsText(validateProblem.errors)}`);
    if (r.statusCode !== undefined && String(body.status) !== String(r.statusCode)) {
      gwProblems.push(`${t}: body status ${body.status} but statusCode ${r.statusCode}`);
    }
    if (t.startsWith('DEFAULT_') !== (r.statusCode === undefined)) gwProblems.push(`${t}: only the DEFAULT_ types may keep API Gateway's status`);
  }
  check(`OpenAPI (${name}): API Gateway's own answers are problem documents with CORS headers`, gwProblems);
}

// An HTTP API's CORS is its own: the origins of AllowedOrigins, the methods and headers the
// function's preflight allows (src/op_read.c), the headers it exposes (include/cors.h); and
// nothing of the REST API's gateway responses or validators, which an HTTP API cannot use.
function checkHttpCors(doc, name) {
  const problems = [];
  const c = doc['x-amazon-apigateway-cors'] || {};
  const eq = (a, b, what) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${what}: ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
  };
  eq(c.allowOrigins, ['*'], 'allowOrigins (AllowedOrigins default)');
  eq(c.allowMethods, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], 'allowMethods');
  const source = fs.readFileSync(path.join(REPO, 'src', 'op_read.c'), 'utf8');
  const allowed = (source.match(/#define PREFLIGHT_ALLOW_HEADERS([\s\S]*?)\n#define/) || ['', ''])[1]
    .replace(/[\\"\n]/g, '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const h of allowed) {
    if (h !== 'x-api-key' && !(c.allowHeaders || []).includes(h)) problems.push(`allowHeaders lacks ${h}, which the function's preflight allows`);
  }
  eq(c.exposeHeaders, ['etag', 'location'], 'exposeHeaders');
  eq(c.allowCredentials, false, 'allowCredentials');
  for (const k of ['x-amazon-apigateway-gateway-responses', 'x-amazon-apigateway-request-validators', 'x-amazon-apigateway-api-key-source']) {
    if (k in doc) problems.push(`${k} in an HTTP API's document`);
  }
  check(`OpenAPI (${name}): CORS answered by the API as the function would, no REST-only extensions`, problems);
}

// Secure by default (issue 15): nothing public unless Auth=NONE is chosen; one API per ApiType;
// the combinations an API type cannot serve refused by the template's rules; the limits that
// bound what one client can cost (usage plan per key, WAF's per-IP rule, reserved concurrency).
function checkAccess(template) {
  const R = template.Resources;
  const P = template.Parameters;
  const problems = [];
  const eq = (a, b, what) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${what}: ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
  };
  if (P.Auth?.Default === 'NONE' || !P.Auth?.AllowedValues?.includes(P.Auth?.Default)) problems.push(`Auth defaults to ${P.Auth?.Default}`);
  eq([P.ApiType?.Default, P.ApiType?.AllowedValues], ['REST', ['REST', 'HTTP']], 'ApiType');
  eq(R.UsersApi?.Condition, 'IsRestApi', 'UsersApi Condition');
  eq(R.UsersHttpApi?.Condition, 'IsHttpApi', 'UsersHttpApi Condition');
  eq(R.UsersHttpApi?.Properties?.DefinitionBody?.['Fn::Transform']?.Parameters?.Location, './openapi-http.yaml', 'UsersHttpApi document');
  const route = R.UsersHttpApi?.Properties?.DefaultRouteSettings || {};
  eq([route.ThrottlingRateLimit, route.ThrottlingBurstLimit], [{ Ref: 'ThrottlingRateLimit' }, { Ref: 'ThrottlingBurstLimit' }],
    'HTTP API throttling per route');
  if (!R.UsersHttpApi?.Properties?.AccessLogSettings?.DestinationArn) problems.push('HTTP API without access logs');
  try {
    JSON.parse(R.UsersHttpApi?.Properties?.AccessLogSettings?.Format.replace(/\$context\.[A-Za-z.]+/g, 'x'));
  } catch (e) {
    problems.push(`HTTP API access log format is not JSON: ${e.message}`);
  }
  // The rules refuse what an API type cannot do, for every combination: evaluated here.
  const refused = (params) => Object.entries(template.Rules || {}).some(([, rule]) => {
    const cond = evaluateConditions({ ...template, Conditions: { ...template.Conditions, __rule: rule.RuleCondition ?? true,
      ...Object.fromEntries(rule.Assertions.map((a, i) => [`__assert${i}`, a.Assert])) } }, parameterValues(template, params));
    return (rule.RuleCondition === undefined || cond.__rule) && rule.Assertions.some((a, i) => !cond[`__assert${i}`]);
  });
  for (const apiType of ['REST', 'HTTP']) {
    for (const auth of P.Auth?.AllowedValues || []) {
      const params = { ApiType: apiType, Auth: auth, CognitoUserPoolArn: '', CognitoClientIds: '' };
      const want = apiType === 'HTTP' && auth === 'API_KEY';
      if (refused(params) !== want) problems.push(`ApiType=${apiType} Auth=${auth} is ${want ? 'allowed' : 'refused'} by the rules`);
    }
  }
  if (!refused({ ApiType: 'HTTP', Waf: 'true' })) problems.push('Waf with an HTTP API is allowed by the rules');
  if (!refused({ ApiType: 'HTTP', Auth: 'COGNITO', CognitoUserPoolArn: COGNITO_ARN })) {
    problems.push('an HTTP API with an existing pool and no CognitoClientIds is allowed by the rules');
  }
  // Per-client limits: the usage plan's throttle and quota, per key.
  const plan = R.UsersApiUsagePlan?.Properties || {};
  eq([plan.Throttle?.RateLimit, plan.Throttle?.BurstLimit], [{ Ref: 'ApiKeyRateLimit' }, { Ref: 'ApiKeyBurstLimit' }], 'usage plan throttle');
  eq(plan.Quota?.['Fn::If']?.[1], { Limit: { Ref: 'ApiKeyQuota' }, Period: { Ref: 'ApiKeyQuotaPeriod' } }, 'usage plan quota');
  // WAF: a per-IP rate rule first, AWS's common rule set, on the REST stage.
  const acl = R.UsersWebAcl?.Properties || {};
  eq(R.UsersWebAcl?.Condition, 'UseWaf', 'UsersWebAcl Condition');
  eq(acl.Scope, 'REGIONAL', 'web ACL scope');
  const rateRule = (acl.Rules || []).find((r) => r.Statement?.RateBasedStatement);
  eq([rateRule?.Priority, rateRule?.Statement?.RateBasedStatement], [0, { Limit: { Ref: 'WafRateLimit' }, AggregateKeyType: 'IP' }], 'WAF rate rule');
  const managed = (acl.Rules || []).find((r) => r.Statement?.ManagedRuleGroupStatement)?.Statement?.ManagedRuleGroupStatement;
  eq([managed?.VendorName, managed?.Name], ['AWS', 'AWSManagedRulesCommonRuleSet'], 'WAF managed rule set');
  eq(managed?.RuleActionOverrides, [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
    'WAF body-size rule only counts (the contract accepts 16 KiB bodies)');
  const body = JSON.parse(acl.CustomResponseBodies?.TooManyRequests?.Content ?? 'null');
  if (body?.status !== 429 || !body?.title) problems.push('WAF 429 body is not a problem document');
  eq(R.UsersWebAclAssociation?.Properties?.WebACLArn, { 'Fn::GetAtt': ['UsersWebAcl', 'Arn'] }, 'WAF association');
  if (!String(R.UsersWebAclAssociation?.Properties?.ResourceArn?.['Fn::Sub']).includes('/restapis/${UsersApi}/stages/')) {
    problems.push('WAF association is not on the REST stage');
  }
  // A cap on concurrency by default.
  if (!(P.ReservedConcurrency?.Default > 0)) problems.push(`ReservedConcurrency defaults to ${P.ReservedConcurrency?.Default}`);
  // Cognito: the stack's own pool only when asked for and no pool given; admin-created users only.
  eq(template.Conditions?.CreateUserPool, { 'Fn::And': [{ Condition: 'AuthIsCognito' }, { 'Fn::Equals': [{ Ref: 'CognitoUserPoolArn' }, ''] }] },
    'CreateUserPool condition');
  eq(R.UsersUserPool?.Properties?.AdminCreateUserConfig?.AllowAdminCreateUserOnly, true, 'user pool: no self sign-up');
  eq(R.UsersUserPoolClient?.Properties?.GenerateSecret, false, 'user pool client secret');
  check('template: secure by default (no public default, rules per API type, per-client limits, WAF, Cognito)', problems);
}

// The alarms (parameter AlarmProfile): the seed's four with its thresholds by default, the
// stricter ones only with AlarmProfile=strict; every one notifies the topic both ways.
// The stack uses its own tables, or the pair ExistingTableName names (a restored one).
const TABLE_NAME = {
  UsersTable: { 'Fn::If': ['CreateTables', { Ref: 'UsersTable' }, { Ref: 'ExistingTableName' }] },
  ClaimsTable: { 'Fn::If': ['CreateTables', { Ref: 'ClaimsTable' }, { 'Fn::Sub': '${ExistingTableName}-claims' }] },
};
const tableArnOf = (id, suffix) => ({ 'Fn::If': ['CreateTables', { 'Fn::GetAtt': [id, 'Arn'] },
  { 'Fn::Sub': `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/\${ExistingTableName}${suffix}` }] });
const TABLE_ARN = { UsersTable: tableArnOf('UsersTable', ''), ClaimsTable: tableArnOf('ClaimsTable', '-claims') };
// CodeDeploy rolls a deployment back on these (gradual deployments, issue 16).
const DEPLOYMENT_ALARMS = ['DeploymentFunctionErrorsAlarm', 'Deployment5xxRateAlarm'];
const DEPLOYMENT_TRIGGERS = [...DEPLOYMENT_ALARMS, 'FunctionErrorRateAlarm', 'Api5xxRateAlarm'];
const SEED_ALARMS = ['FunctionErrorRateAlarm', 'Api5xxRateAlarm', 'TableThrottledRequestsAlarm', 'FunctionDurationAlarm'];
const STRICT_ALARMS = ['FunctionErrorsAlarm', 'FunctionThrottlesAlarm', 'FunctionDurationP99Alarm', 'Api4xxRateAlarm',
  'TableSystemErrorsAlarm'];

function checkAlarms(template) {
  const R = template.Resources;
  const problems = [];
  const eq = (a, b, what) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${what}: ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
  };
  const ids = Object.keys(R).filter((id) => R[id].Type === 'AWS::CloudWatch::Alarm');
  for (const id of ids) {
    if (![...SEED_ALARMS, ...STRICT_ALARMS, ...DEPLOYMENT_ALARMS].includes(id)) problems.push(`alarm ${id} is in neither the seed nor the strict set`);
    const a = R[id].Properties || {};
    eq(a.AlarmActions, [{ Ref: 'AlarmTopic' }], `${id} AlarmActions`);
    eq(a.OKActions, [{ Ref: 'AlarmTopic' }], `${id} OKActions`);
    eq(a.TreatMissingData, 'notBreaching', `${id} TreatMissingData`);
  }
  for (const id of [...SEED_ALARMS, ...STRICT_ALARMS]) if (!ids.includes(id)) problems.push(`alarm ${id} is missing`);
  for (const id of SEED_ALARMS) if (R[id]?.Condition) problems.push(`${id} is a seed alarm but has Condition ${R[id].Condition}`);
  for (const id of STRICT_ALARMS) eq(R[id]?.Condition, 'StrictAlarms', `${id} Condition`);
  eq(template.Conditions?.StrictAlarms, { 'Fn::Equals': [{ Ref: 'AlarmProfile' }, 'strict'] }, 'condition StrictAlarms');
  for (const id of DEPLOYMENT_ALARMS) if (R[id]?.Condition) problems.push(`${id} is a deployment alarm but has Condition ${R[id].Condition}`);
  for (const [profile, want] of [['seed', [...SEED_ALARMS, ...DEPLOYMENT_ALARMS]], ['strict', [...SEED_ALARMS, ...STRICT_ALARMS, ...DEPLOYMENT_ALARMS]]]) {
    const cond = evaluateConditions(template, parameterValues(template, { AlarmProfile: profile }));
    const active = ids.filter((id) => !R[id].Condition || cond[R[id].Condition]);
    eq(active.sort(), want.slice().sort(), `alarms with AlarmProfile=${profile}`);
  }

  // A rate in percent by metric math: IF(total > 0, 100 * part / total, 0), both sums of one period.
  const rate = (id, namespace, part, total, dimensions, threshold) => {
    const a = R[id]?.Properties || {};
    const metrics = a.Metrics || [];
    const out = metrics.filter((m) => m.ReturnData !== false);
    const byId = Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat]));
    const expr = (out[0]?.Expression || '').replace(/\s+/g, ' ').trim();
    const m = expr.match(/^IF\((\w+) > 0, 100 \* (\w+) \/ (\w+), 0\)$/);
    if (out.length !== 1 || !m || m[1] !== m[3]) {
      problems.push(`${id}: expression ${JSON.stringify(expr)}, expected IF(total > 0, 100 * part / total, 0)`);
      return;
    }
    for (const [ref, name] of [[m[2], part], [m[1], total]]) {
      const st = byId[ref];
      eq([st?.Metric?.Namespace, st?.Metric?.MetricName, st?.Stat], [namespace, name, 'Sum'], `${id} metric ${ref}`);
      eq(st?.Metric?.Dimensions, dimensions, `${id} metric ${ref} dimensions`);
    }
    if (byId[m[2]]?.Period !== byId[m[1]]?.Period) problems.push(`${id}: ${part} and ${total} over different periods`);
    if (Object.keys(byId).length !== 2) problems.push(`${id}: ${Object.keys(byId).length} metrics, expected 2`);
    eq([a.Threshold, a.ComparisonOperator], [threshold, 'GreaterThanThreshold'], `${id} threshold`);
  };
  const fnDims = [{ Name: 'FunctionName', Value: { Ref: 'UsersFunction' } }];
  // A REST API's metrics are per ApiName (and Stage), an HTTP API's per ApiId: chosen by ApiType.
  const stage = { Name: 'Stage', Value: { Ref: 'StageName' } };
  const apiDims = { 'Fn::If': ['IsHttpApi', [{ Name: 'ApiId', Value: { Ref: 'UsersHttpApi' } }, stage],
    [{ Name: 'ApiName', Value: R.UsersApi?.Properties?.Name }, stage]] };
  if (!R.UsersApi?.Properties?.Name) problems.push('UsersApi has no Name: the API Gateway alarms need it as ApiName');
  const apiMetric = (rest, http) => ({ 'Fn::If': ['IsHttpApi', http, rest] });
  // Seed: function error rate > 5 %, API 5xx rate > 1 %.
  rate('FunctionErrorRateAlarm', 'AWS/Lambda', 'Errors', 'Invocations', fnDims, 5);
  rate('Api5xxRateAlarm', 'AWS/ApiGateway', apiMetric('5XXError', '5xx'), 'Count', apiDims, 1);
  // Seed: any throttled DynamoDB request (which operations and tables: the check below).
  const thr = R.TableThrottledRequestsAlarm?.Properties || {};
  eq((thr.Metrics || []).filter((m) => m.ReturnData !== false).map((m) => m.Expression), ['SUM(METRICS())'],
    'TableThrottledRequestsAlarm expression');
  const thrNames = [...new Set((thr.Metrics || []).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric.MetricName))];
  eq(thrNames, ['ThrottledRequests'], 'TableThrottledRequestsAlarm metrics');
  eq([thr.Threshold, thr.ComparisonOperator], [0, 'GreaterThanThreshold'], 'TableThrottledRequestsAlarm threshold');
  // Seed: duration at 25 s, the function's timeout.
  const single = (id, namespace, name, stat, dims, threshold, op) => {
    const a = R[id]?.Properties || {};
    eq([a.Namespace, a.MetricName, a.Statistic ?? a.ExtendedStatistic, a.Dimensions], [namespace, name, stat, dims], `${id} metric`);
    eq([a.Threshold, a.ComparisonOperator], [threshold, op], `${id} threshold`);
  };
  single('FunctionDurationAlarm', 'AWS/Lambda', 'Duration', 'Maximum', fnDims, 25000, 'GreaterThanOrEqualToThreshold');
  const timeout = R.UsersFunction?.Properties?.Timeout;
  if (timeout * 1000 !== 25000) problems.push(`UsersFunction.Timeout ${timeout} s: FunctionDurationAlarm's 25000 ms is the timeout`);
  // Strict: today's tighter alarms, as they were.
  single('FunctionErrorsAlarm', 'AWS/Lambda', 'Errors', 'Sum', fnDims, 1, 'GreaterThanOrEqualToThreshold');
  single('FunctionThrottlesAlarm', 'AWS/Lambda', 'Throttles', 'Sum', fnDims, 1, 'GreaterThanOrEqualToThreshold');
  single('FunctionDurationP99Alarm', 'AWS/Lambda', 'Duration', 'p99', fnDims, { Ref: 'DurationP99AlarmMs' }, 'GreaterThanThreshold');
  rate('Api4xxRateAlarm', 'AWS/ApiGateway', apiMetric('4XXError', '4xx'), 'Count', apiDims, 25);
  const sys = R.TableSystemErrorsAlarm?.Properties || {};
  eq([...new Set((sys.Metrics || []).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric.MetricName))], ['SystemErrors'],
    'TableSystemErrorsAlarm metrics');
  check('template: the seed\'s alarms by default, the strict ones with AlarmProfile=strict, all to the SNS topic', problems);
}

// The dashboard, resolved as CloudFormation would: valid JSON, widgets that do not overlap, the
// function's own metrics (EMF) per operation from the namespace parameter and the stack's
// Service, with the whole-service line for MetricsDimensions=service, and the X-Ray links.
const EMF_METRICS = { Latency: ['p50', 'p99'], DynamoDBLatency: ['p99'], DynamoDBRetries: ['Sum'], ClientErrors: ['Sum'],
  ServerErrors: ['Sum'], ColdStart: ['Sum'] };

function checkDashboard(template) {
  const problems = [];
  const namespace = 'Check/Namespace';
  const params = parameterValues(template, { MetricsNamespace: namespace });
  const ctx = {
    params,
    conditions: evaluateConditions(template, params),
    attributes: { UsersFunction: 'users-api-UsersFunction-ABC', UsersTable: 'Users', ClaimsTable: 'Users-claims' },
  };
  let board;
  try {
    board = JSON.parse(resolveIntrinsics(template.Resources.Dashboard?.Properties?.DashboardBody, ctx));
  } catch (e) {
    check('template: dashboard', [`the dashboard body does not resolve to JSON: ${e.message}`]);
    return;
  }
  const widgets = board.widgets || [];
  for (let i = 0; i < widgets.length; i++) {
    for (let j = i + 1; j < widgets.length; j++) {
      const [a, b] = [widgets[i], widgets[j]];
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) {
        problems.push(`widgets ${i} and ${j} overlap`);
      }
    }
    if (widgets[i].x + widgets[i].width > 24) problems.push(`widget ${i} is wider than the dashboard`);
  }
  const expressions = widgets.flatMap((w) => (w.properties?.metrics || []).flat())
    .filter((m) => m && typeof m === 'object' && m.expression).map((m) => m.expression);
  const stack = PSEUDO['AWS::StackName'];
  for (const [metric, stats] of Object.entries(EMF_METRICS)) {
    for (const stat of stats) {
      for (const schema of [`{"${namespace}",Operation,Service}`, `{"${namespace}",Service}`]) {
        const want = `SEARCH('${schema} MetricName="${metric}" Service="${stack}"', '${stat}', 60)`;
        if (!expressions.includes(want)) problems.push(`no graph of ${want}`);
      }
    }
  }
  const ids = widgets.flatMap((w) => (w.properties?.metrics || []).flat()).filter((m) => m?.id).map((m) => m.id);
  for (const id of new Set(ids)) if (ids.filter((x) => x === id).length > 1) problems.push(`metric id ${id} used twice`);
  const text = widgets.filter((w) => w.type === 'text').map((w) => w.properties?.markdown || '').join('\n');
  const region = PSEUDO['AWS::Region'];
  for (const view of ['xray:service-map/map', 'xray:traces/query']) {
    const url = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#${view}`;
    if (!text.includes(`(${url})`)) problems.push(`no link to ${url}`);
  }
  check('template: dashboard (EMF metrics per operation, X-Ray links)', problems);
}

function checkTemplateRules(template) {
  const R = template.Resources;
  let problems = [];
  const fn = R.UsersFunction?.Properties || {};
  const eq = (a, b, what) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${what}: ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
  };
  eq(fn.CodeUri, '../build/lambda.zip', 'UsersFunction.CodeUri');
  eq(fn.Handler, 'bootstrap', 'UsersFunction.Handler');
  eq(fn.MemorySize, 256, 'UsersFunction.MemorySize');
  if (!(fn.Timeout <= 29)) problems.push(`UsersFunction.Timeout ${fn.Timeout} is over 29 s`);
  eq(fn.Tracing, 'Active', 'UsersFunction.Tracing');
  eq(fn.LoggingConfig?.LogFormat, 'JSON', 'UsersFunction.LoggingConfig.LogFormat');
  const env = fn.Environment?.Variables || {};
  eq(Object.keys(env).sort(), ['ALLOWED_ORIGINS', 'LOG_LEVEL', 'METRICS_DIMENSIONS', 'METRICS_NAMESPACE', 'SERVICE_NAME',
    'USERS_CLAIMS_TABLE', 'USERS_TABLE'], 'environment');
  eq(env.USERS_TABLE, TABLE_NAME.UsersTable, 'USERS_TABLE');
  eq(env.USERS_CLAIMS_TABLE, TABLE_NAME.ClaimsTable, 'USERS_CLAIMS_TABLE');
  eq(template.Parameters.Runtime?.AllowedValues, ['provided.al2023', 'provided.al2'], 'Runtime values');
  eq(template.Parameters.Runtime?.Default, 'provided.al2023', 'Runtime default');
  eq([template.Parameters.Architecture?.Default, template.Parameters.Architecture?.AllowedValues], ['arm64', ['arm64', 'x86_64']],
    'Architecture (arm64 by default: scripts/package.sh --arch arm64)');
  eq([fn.AutoPublishAlias, fn.DeploymentPreference?.Type], ['live', { Ref: 'DeploymentStrategy' }], 'gradual deployments');
  eq(fn.DeploymentPreference?.Alarms, DEPLOYMENT_TRIGGERS.map((a) => ({ Ref: a })), 'rollback alarms');
  eq(template.Resources.UsersFunctionInvokePermission?.Properties?.FunctionName, { Ref: 'UsersFunction.Alias' }, 'API Gateway invokes the alias');
  if (fn.Policies) problems.push('UsersFunction has Policies: the explicit role is the whole of its permissions');
  check('template: function settings', problems);

  // Observability (docs/decisions.md, "Observability: logs, metrics, traces"): the binary
  // filters its own lines by LOG_LEVEL and always writes the invocation line with its metrics;
  // Lambda's filter would give that line INFO and drop it below a higher level, so Lambda's
  // application log level stays at DEBUG.
  problems = [];
  eq(fn.LoggingConfig?.ApplicationLogLevel, 'DEBUG', 'UsersFunction.LoggingConfig.ApplicationLogLevel (Lambda must drop no line)');
  eq(env.LOG_LEVEL, { Ref: 'LogLevel' }, 'LOG_LEVEL');
  eq(env.METRICS_NAMESPACE, { Ref: 'MetricsNamespace' }, 'METRICS_NAMESPACE');
  eq(env.METRICS_DIMENSIONS, { Ref: 'MetricsDimensions' }, 'METRICS_DIMENSIONS');
  eq(env.SERVICE_NAME, { Ref: 'AWS::StackName' }, 'SERVICE_NAME');
  const P = template.Parameters;
  eq([P.MetricsNamespace?.Type, P.MetricsNamespace?.Default], ['String', 'UsersApi'], 'MetricsNamespace');
  eq([P.MetricsDimensions?.Default, P.MetricsDimensions?.AllowedValues], ['operation', ['operation', 'service']], 'MetricsDimensions');
  eq([P.AlarmProfile?.Default, P.AlarmProfile?.AllowedValues], ['seed', ['seed', 'strict']], 'AlarmProfile');
  eq([P.LogLevel?.Default, P.LogLevel?.AllowedValues], ['INFO', ['DEBUG', 'INFO', 'WARN', 'ERROR']], 'LogLevel');
  const nsPattern = new RegExp(P.MetricsNamespace?.AllowedPattern ?? '^$');
  for (const ok of ['UsersApi', 'Team/Users API', 'users_api-2.prod']) if (!nsPattern.test(ok)) problems.push(`MetricsNamespace refuses ${ok}`);
  for (const bad of ['', ' UsersApi', 'a"b', 'x'.repeat(256)]) if (nsPattern.test(bad)) problems.push(`MetricsNamespace allows ${JSON.stringify(bad)}`);
  // Every parameter in exactly one group of the console's form.
  const grouped = (template.Metadata?.['AWS::CloudFormation::Interface']?.ParameterGroups || []).flatMap((g) => g.Parameters);
  for (const name of Object.keys(P)) {
    const n = grouped.filter((g) => g === name).length;
    if (n !== 1) problems.push(`parameter ${name} is in ${n} parameter groups, expected 1`);
  }
  for (const name of grouped) if (!(name in P)) problems.push(`parameter group names ${name}, which is no parameter`);
  check('template: logs, metrics and traces settings, parameter groups', problems);

  problems = [];

  // Both tables (docs/decisions.md, "Phase 2: the tables"): retained, protected, on demand.
  const tables = { UsersTable: 'userId', ClaimsTable: 'pk' };
  const maxThroughput = { MaxReadRequestUnits: { Ref: 'TableMaxReadRequestUnits' }, MaxWriteRequestUnits: { Ref: 'TableMaxWriteRequestUnits' } };
  for (const [id, key] of Object.entries(tables)) {
    const t = R[id] || {};
    eq(t.Type, 'AWS::DynamoDB::Table', `${id} type`);
    eq(t.DeletionPolicy, 'Retain', `${id} DeletionPolicy`);
    eq(t.UpdateReplacePolicy, 'Retain', `${id} UpdateReplacePolicy`);
    const tp = t.Properties || {};
    eq(tp.KeySchema, [{ AttributeName: key, KeyType: 'HASH' }], `${id} key`);
    eq(tp.BillingMode, 'PAY_PER_REQUEST', `${id} billing`);
    eq(tp.SSESpecification?.SSEEnabled, true, `${id} SSE`);
    eq(tp.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled, true, `${id} PITR`);
    eq(tp.DeletionProtectionEnabled, true, `${id} deletion protection`);
    eq(tp.TimeToLiveSpecification, { AttributeName: 'expiresAt', Enabled: true }, `${id} TTL`);
    // A ceiling on the bill (issue 15): the parameters, with a finite default.
    eq(tp.OnDemandThroughput, maxThroughput, `${id} on-demand maximum throughput`);
  }
  for (const name of ['TableMaxReadRequestUnits', 'TableMaxWriteRequestUnits']) {
    const d = template.Parameters[name]?.Default;
    if (!(d > 0)) problems.push(`${name} defaults to ${d}: no ceiling by default`);
  }
  const others = Object.keys(R).filter((id) => R[id].Type === 'AWS::DynamoDB::Table' && !(id in tables));
  if (others.length) problems.push(`tables the rules do not know: ${others}`);
  const up = R.UsersTable?.Properties || {};
  eq(up.TableName, { Ref: 'TableName' }, 'UsersTable name');
  eq(up.StreamSpecification?.StreamViewType, 'NEW_AND_OLD_IMAGES', 'UsersTable stream');
  eq(up.AttributeDefinitions, [{ AttributeName: 'userId', AttributeType: 'S' }, { AttributeName: 'emailLower', AttributeType: 'S' }],
    'UsersTable attribute definitions');
  eq(up.GlobalSecondaryIndexes, [{
    IndexName: 'emailLower-index',
    KeySchema: [{ AttributeName: 'emailLower', KeyType: 'HASH' }],
    Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['name', 'email', 'age', 'createdAt', 'updatedAt', 'version'] },
    OnDemandThroughput: maxThroughput,
  }], 'UsersTable email index');
  const cp = R.ClaimsTable?.Properties || {};
  eq(cp.TableName, { 'Fn::Sub': '${TableName}-claims' }, 'ClaimsTable name (the function\'s default: USERS_TABLE + "-claims")');
  eq(cp.AttributeDefinitions, [{ AttributeName: 'pk', AttributeType: 'S' }], 'ClaimsTable attribute definitions');
  if (cp.GlobalSecondaryIndexes || cp.LocalSecondaryIndexes) problems.push('ClaimsTable has an index (nothing queries it)');
  // <TableName>-claims must still be a valid table name (at most 255 characters).
  const pattern = template.Parameters.TableName?.AllowedPattern || '';
  const longest = Number((pattern.match(/\{3,(\d+)\}\$$/) || [])[1]);
  if (!(longest + '-claims'.length <= 255)) problems.push(`TableName allows ${longest} characters: ${longest}-claims is over 255`);
  check('template: tables', problems);

  // Least privilege: which actions on which resources, statement by statement.
  problems = [];
  const iam = problems;
  const statements = (R.UsersFunctionRole?.Properties?.Policies || []).flatMap((p) => p.PolicyDocument.Statement);
  const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
  // TransactWriteItems is not an IAM action: each of its items is authorised as the PutItem,
  // UpdateItem, DeleteItem or ConditionCheckItem it stands for (DynamoDB developer guide,
  // "Using IAM with DynamoDB transactions").
  eq((bySid.UsersCrud?.Action || []).slice().sort(),
    ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
    'users table actions');
  eq(bySid.UsersCrud?.Resource, TABLE_ARN.UsersTable, 'users table resource');
  eq(bySid.EmailLookup?.Action, ['dynamodb:Query'], 'email index actions');
  eq(bySid.EmailLookup?.Resource, { 'Fn::Sub': ['${UsersTableArn}/index/emailLower-index', { UsersTableArn: TABLE_ARN.UsersTable }] },
    'email index resource');
  eq((bySid.Claims?.Action || []).slice().sort(), ['dynamodb:DeleteItem', 'dynamodb:PutItem'], 'claims table actions');
  eq(bySid.Claims?.Resource, TABLE_ARN.ClaimsTable, 'claims table resource');
  eq(bySid.OwnLogGroup?.Resource, { 'Fn::GetAtt': ['FunctionLogGroup', 'Arn'] }, 'logs resource');
  for (const s of statements) {
    if (s.Effect !== 'Allow') iam.push(`${s.Sid}: unexpected Effect ${s.Effect}`);
    const actions = [].concat(s.Action);
    if (actions.some((a) => a.includes('*'))) iam.push(`${s.Sid}: wildcard action ${actions}`);
    if (s.Resource === '*' && s.Sid !== 'TraceSegments') iam.push(`${s.Sid}: Resource '*' (only X-Ray's writes may have it)`);
  }
  eq(bySid.TraceSegments?.Action, ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], 'X-Ray actions');
  if (statements.length !== 5) {
    iam.push(`${statements.length} statements, expected 5 (users table, email index, claims table, logs, X-Ray)`);
  }
  check('template: least-privilege execution role', iam);

  checkAccess(template);
  checkAlarms(template);
  const alarms = Object.values(R).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');

  // DynamoDB's per-operation metrics: every operation the function (or the back-fill) makes on
  // each table is summed by an alarm, and the dashboard shows every table.
  const watched = (metric) => new Set(alarms.flatMap((a) => (a.Properties.Metrics || [])
    .map((m) => m.MetricStat?.Metric)
    .filter((m) => m?.Namespace === 'AWS/DynamoDB' && m.MetricName === metric)
    .map((m) => {
      const d = Object.fromEntries(m.Dimensions.map((x) => [x.Name, x.Value]));
      return `${d.TableName?.['Fn::If']?.[1]?.Ref}:${d.Operation}`;
    })));
  const used = {
    UsersTable: ['GetItem', 'UpdateItem', 'Scan', 'Query', 'TransactWriteItems'],
    ClaimsTable: ['TransactWriteItems', 'PutItem'],
  };
  const unwatched = [];
  for (const metric of ['ThrottledRequests', 'SystemErrors']) {
    const w = watched(metric);
    for (const [table, ops] of Object.entries(used)) {
      for (const op of ops) if (!w.has(`${table}:${op}`)) unwatched.push(`${metric} of ${op} on ${table} is in no alarm`);
    }
  }
  const board = JSON.stringify(R.Dashboard?.Properties?.DashboardBody ?? '');
  const boardVars = R.Dashboard?.Properties?.DashboardBody?.['Fn::Sub']?.[1] || {};
  for (const table of Object.keys(tables)) {
    if (!board.includes(`\${${table}Name}`) || JSON.stringify(boardVars[`${table}Name`]) !== JSON.stringify(TABLE_NAME[table])) {
      unwatched.push(`the dashboard does not show ${table}`);
    }
  }
  if (!board.includes('emailLower-index')) unwatched.push('the dashboard does not show the email index');
  check('template: every table\'s DynamoDB throttles (and, strict, errors) alarmed, every table on the dashboard', unwatched);

  checkDashboard(template);

  const outputs = Object.keys(template.Outputs || {});
  check('template: outputs', ['ApiUrl', 'FunctionName', 'FunctionArn', 'TableName', 'TableArn', 'ClaimsTableName', 'ClaimsTableArn']
    .filter((o) => !outputs.includes(o)).map((o) => `output ${o} is missing`));
}


// ---- check-responses: recorded answers against the document -----------------------------------

// OpenAPI 3.0 Schema Objects are close to JSON Schema; `nullable` and `example` are not.
function toJsonSchema(node) {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'example' || k === 'nullable' || k.startsWith('x-')) continue;
    out[k] = toJsonSchema(v);
  }
  if (node.nullable === true && typeof node.type === 'string') out.type = [node.type, 'null'];
  return out;
}

function openapiAjv(doc) {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ components: { schemas: toJsonSchema(doc.components.schemas) } }, 'openapi');
  return ajv;
}

function schemaFor(ajv, schema) {
  const fixed = JSON.parse(JSON.stringify(toJsonSchema(schema)).replaceAll('"#/components/', '"openapi#/components/'));
  return ajv.compile(fixed);
}

function deref(doc, node) {
  while (node && node.$ref) {
    node = node.$ref.replace(/^#\//, '').split('/').reduce((o, k) => o[k.replaceAll('~1', '/').replaceAll('~0', '~')], doc);
  }
  return node;
}

function checkResponses(docFile, responsesFile) {
  const doc = JSON.parse(fs.readFileSync(docFile, 'utf8'));
  const records = JSON.parse(fs.readFileSync(responsesFile, 'utf8'));
  const ajv = openapiAjv(doc);
  const problemValidator = schemaFor(ajv, { $ref: '#/components/schemas/Problem' });
  for (const r of records) {
    const problems = [];
    const item = doc.paths[r.path];
    const headers = Object.fromEntries(Object.entries(r.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
    const op = item?.[r.method.toLowerCase()];
    let response;
    if (!item) {
      problems.push(`path ${r.path} is not in the document`);
    } else if (!op) {
      // Not an operation: the any-method integration hands it to the function → 404/405.
      if (!item['x-amazon-apigateway-any-method']) problems.push(`${r.method} ${r.path}: no operation and no any-method`);
      const allowed = r.path === '/users' || r.path === '/users/{userId}' ? [405] : [404];
      if (!allowed.includes(r.status)) problems.push(`${r.method} ${r.path}: status ${r.status}, expected ${allowed}`);
      if (r.status === 405) {
        const documented = HTTP_METHODS.filter((m) => item[m]).map((m) => m.toUpperCase()).sort();
        const allow = (headers.allow || '').split(',').map((s) => s.trim()).filter(Boolean).sort();
        if (JSON.stringify(allow) !== JSON.stringify(documented)) problems.push(`Allow ${allow}, documented methods ${documented}`);
      }
      if (!problemValidator(r.body)) problems.push(`body is not a problem document: ${ajv.errorsText(problemValidator.errors)}`);
    } else {
      response = deref(doc, op.responses[String(r.status)]);
      if (!response) problems.push(`${r.method} ${r.path}: status ${r.status} is not documented (${Object.keys(op.responses)})`);
    }
    if (response) {
      for (const name of Object.keys(response.headers || {})) {
        if (!(name.toLowerCase() in headers)) problems.push(`documented header ${name} is missing`);
        const hs = deref(doc, response.headers[name])?.schema;
        if (hs && name.toLowerCase() in headers) {
          const v = schemaFor(ajv, hs);
          if (!v(headers[name.toLowerCase()])) problems.push(`header ${name}: ${headers[name.toLowerCase()]} ${ajv.errorsText(v.errors)}`);
        }
      }
      const content = response.content || {};
      if (Object.keys(content).length === 0) {
        if (r.body !== null && r.body !== undefined) problems.push('a body where the document has none');
      } else {
        const ct = (headers['content-type'] || '').split(';')[0].trim().toLowerCase();
        const media = content[ct];
        if (!media) {
          problems.push(`Content-Type ${ct} is not documented (${Object.keys(content)})`);
        } else {
          const v = schemaFor(ajv, media.schema);
          if (!v(r.body)) problems.push(`body does not match the schema: ${ajv.errorsText(v.errors)}`);
        }
      }
    }
    check(`${r.method} ${r.example || r.path} → ${r.status}${r.note ? ` (${r.note})` : ''}`, problems);
  }
}

// ---- main ----------------------------------------------------------------------------------------

function main() {
  const [cmd, ...args] = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const template = loadYaml(TEMPLATE, true);
  if (cmd === 'resolve') {
    const auth = opt('--auth', 'NONE');
    const apiType = opt('--api-type', 'REST');
    if (!AUTHS.includes(auth)) throw new Error(`--auth must be one of ${AUTHS}`);
    if (!(apiType in OPENAPI)) throw new Error(`--api-type must be one of ${Object.keys(OPENAPI)}`);
    process.stdout.write(`${JSON.stringify(resolvedOpenapi(template, { apiType, auth }), null, 1)}\n`);
    return;
  }
  if (cmd === 'tables') {
    process.stdout.write(`${JSON.stringify(tablesForLocal(template, opt('--table-name')), null, 1)}\n`);
    return;
  }
  if (cmd === 'check-responses') {
    checkResponses(args[0], args[1]);
    finish((p, f) => `answers: ${p} as documented, ${f} not`);
    return;
  }
  if (cmd !== 'validate') {
    throw new Error('usage: infra-tool.mjs validate | resolve [--auth A] [--api-type REST|HTTP] | tables [--table-name NAME] | check-responses DOC RESPONSES');
  }
  const shared = process.env.USERS_SHARED_DIR || path.join(REPO, '..', 'shared');
  const samSchema = opt('--sam-schema', path.join(shared, 'schemas', 'sam', 'sam.schema.json'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'users-infra-'));
  try {
    runCfnValidator(template, tmp);
    runSamSchema(template, samSchema);
    runRedocly(template, tmp);
    checkTemplateRules(template);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  finish();
}

try {
  main();
} catch (e) {
  console.error(`infra-tool: ${e.stack || e}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}
