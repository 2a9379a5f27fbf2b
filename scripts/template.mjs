#!/usr/bin/env node
// template.mjs — infra/template.yaml as data: loaded with CloudFormation's short tags, its
// parameters and conditions evaluated, and the intrinsic functions the repository uses resolved,
// as CloudFormation would for one set of parameter values. Needs only the `yaml` package (npm ci).
//
// One source for what the stack deploys: the offline checks (tests/package/infra-tool.mjs)
// import it, and the local stack creates its DynamoDB Local tables from it
// (scripts/local_tables.py), so local tables cannot drift from the template's.
//
//   node scripts/template.mjs tables [--table-name NAME]
//       Prints the template's DynamoDB tables as CreateTable requests (keys, attribute
//       definitions, indexes, billing) with their TTL, for the parameter TableName (default
//       its default), and the function's environment variables that name them.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import YAML from 'yaml';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPLATE = path.join(REPO, 'infra', 'template.yaml');

// Stand-ins for what only exists once deployed.
export const PSEUDO = {
  'AWS::Region': 'us-east-1',
  'AWS::Partition': 'aws',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'users-api',
};

const CFN_FUNCTIONS = ['And', 'Base64', 'Cidr', 'Equals', 'FindInMap', 'GetAZs', 'GetAtt', 'If', 'ImportValue',
  'Join', 'Not', 'Or', 'Select', 'Split', 'Sub', 'Transform', 'ToJsonString', 'Length'];
function cfnTags() {
  const tags = [];
  const plain = (v) => (v && typeof v.toJSON === 'function' ? v.toJSON() : v);
  const add = (tag, make) => {
    for (const collection of [undefined, 'seq', 'map']) {
      tags.push({ tag, ...(collection ? { collection } : {}), resolve: (v) => make(plain(v)) });
    }
  };
  add('!Ref', (v) => ({ Ref: v }));
  add('!Condition', (v) => ({ Condition: v }));
  for (const f of CFN_FUNCTIONS) {
    add(`!${f}`, (v) => {
      if (f === 'GetAtt' && typeof v === 'string') {
        const i = v.indexOf('.');
        return { 'Fn::GetAtt': [v.slice(0, i), v.slice(i + 1)] };
      }
      return { [`Fn::${f}`]: v };
    });
  }
  return tags;
}
export function loadYaml(file, withCfnTags) {
  const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), {
    customTags: withCfnTags ? cfnTags() : [],
    uniqueKeys: true,
    merge: false,
  });
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
  const warnings = doc.warnings.map((w) => w.message);
  if (warnings.length) throw new Error(`${file}: ${warnings.join('; ')}`);
  return doc.toJS({ maxAliasCount: 0 });
}

// ---- CloudFormation's intrinsic functions, as far as the template and OpenAPI document use them

export const NO_VALUE = Symbol('AWS::NoValue');

export function parameterValues(template, overrides) {
  const values = {};
  for (const [name, p] of Object.entries(template.Parameters || {})) {
    if (p.Default !== undefined) values[name] = String(p.Default);
  }
  return { ...values, ...overrides };
}

export function evaluateConditions(template, params) {
  const defs = template.Conditions || {};
  const done = {};
  const evalCond = (expr) => {
    if (expr && typeof expr === 'object') {
      const [k] = Object.keys(expr);
      const v = expr[k];
      if (k === 'Condition') return conditionValue(v);
      if (k === 'Fn::Equals') return String(value(v[0])) === String(value(v[1]));
      if (k === 'Fn::Not') return !evalCond(v[0]);
      if (k === 'Fn::And') return v.every(evalCond);
      if (k === 'Fn::Or') return v.some(evalCond);
    }
    throw new Error(`unsupported condition expression ${JSON.stringify(expr)}`);
  };
  const value = (v) => {
    if (v && typeof v === 'object' && 'Ref' in v) {
      if (!(v.Ref in params)) throw new Error(`condition refers to unknown parameter ${v.Ref}`);
      return params[v.Ref];
    }
    return v;
  };
  const conditionValue = (name) => {
    if (!(name in defs)) throw new Error(`unknown condition ${name}`);
    if (!(name in done)) done[name] = evalCond(defs[name]);
    return done[name];
  };
  for (const name of Object.keys(defs)) conditionValue(name);
  return done;
}

export function resolveIntrinsics(node, ctx) {
  if (Array.isArray(node)) {
    return node.map((x) => resolveIntrinsics(x, ctx)).filter((x) => x !== NO_VALUE);
  }
  if (!node || typeof node !== 'object') return node;
  const keys = Object.keys(node);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
    const [k] = keys;
    const v = node[k];
    switch (k) {
      case 'Ref':
        if (v === 'AWS::NoValue') return NO_VALUE;
        if (v in PSEUDO) return PSEUDO[v];
        if (v in ctx.params) return ctx.params[v];
        if (v in ctx.attributes) return ctx.attributes[v];
        throw new Error(`Ref to unknown parameter or resource ${v}`);
      case 'Fn::GetAtt': {
        const name = Array.isArray(v) ? v.join('.') : v;
        if (name in ctx.attributes) return ctx.attributes[name];
        throw new Error(`Fn::GetAtt of unknown ${name}`);
      }
      case 'Fn::If': {
        if (!(v[0] in ctx.conditions)) throw new Error(`Fn::If on unknown condition ${v[0]}`);
        return resolveIntrinsics(ctx.conditions[v[0]] ? v[1] : v[2], ctx);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(v) ? v : [v, {}];
        return text.replace(/\$\{([^}!]+)\}/g, (_, name) => {
          if (vars && name in vars) return resolveIntrinsics(vars[name], ctx);
          if (name in PSEUDO) return PSEUDO[name];
          if (name in ctx.params) return ctx.params[name];
          if (name in ctx.attributes) return ctx.attributes[name];
          throw new Error(`Fn::Sub refers to unknown ${name}`);
        });
      }
      case 'Fn::Join':
        return resolveIntrinsics(v[1], ctx).join(v[0]);
      case 'Fn::Select':
        return resolveIntrinsics(v[1], ctx)[Number(v[0])];
      case 'Fn::Split':
        return String(resolveIntrinsics(v[1], ctx)).split(v[0]);
      default:
        throw new Error(`unsupported intrinsic function ${k} in the OpenAPI document`);
    }
  }
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    const r = resolveIntrinsics(v, ctx);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

// ---- tables: the template's tables as DynamoDB Local takes them --------------------------------

export function tablesForLocal(template, tableName) {
  const params = parameterValues(template, tableName ? { TableName: tableName } : {});
  const ctx = { params, conditions: evaluateConditions(template, params), attributes: {} };
  const tables = [];
  const names = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::DynamoDB::Table') continue;
    const p = resolveIntrinsics(r.Properties, ctx);
    const create = { TableName: p.TableName, AttributeDefinitions: p.AttributeDefinitions, KeySchema: p.KeySchema,
      BillingMode: p.BillingMode };
    // DynamoDB Local has no on-demand maximum throughput: the local tables are unbounded.
    if (p.GlobalSecondaryIndexes) {
      create.GlobalSecondaryIndexes = p.GlobalSecondaryIndexes.map(({ OnDemandThroughput, ...index }) => index);
    }
    if (p.LocalSecondaryIndexes) create.LocalSecondaryIndexes = p.LocalSecondaryIndexes;
    tables.push({ logicalId: id, create, timeToLive: p.TimeToLiveSpecification ?? null });
    names[id] = p.TableName;
  }
  const environment = {};
  for (const [k, v] of Object.entries(template.Resources.UsersFunction?.Properties?.Environment?.Variables || {})) {
    // USERS_TABLE is the stack's own table, or ExistingTableName's (never set locally).
    const ref = v?.['Fn::If']?.[0] === 'CreateTables' ? v['Fn::If'][1] : v;
    if (ref && typeof ref === 'object' && ref.Ref in names) environment[k] = names[ref.Ref];
  }
  return { tables, environment };
}

// ---- command line --------------------------------------------------------------------------------

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, ...args] = process.argv.slice(2);
  const i = args.indexOf('--table-name');
  if (cmd !== 'tables' || (i >= 0 && !args[i + 1])) {
    console.error('usage: template.mjs tables [--table-name NAME]');
    process.exit(2);
  }
  const template = loadYaml(TEMPLATE, true);
  process.stdout.write(`${JSON.stringify(tablesForLocal(template, i >= 0 ? args[i + 1] : undefined), null, 1)}\n`);
}
