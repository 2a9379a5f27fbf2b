// CTest workbench_docs_browser: /docs as a person uses it, in headless Chromium.
//
//   node --experimental-websocket tests/workbench/docs_browser.mjs --repo DIR --gateway PATH
//        --bootstrap PATH --out DIR
//
// Starts scripts/run.sh --in-memory on a free port (the real bootstrap, DynamoDB Local), checks
// the gateway's own paths over HTTP (the documents, content types, HEAD, ETag/304, traversal
// refused, the function never sees them), then drives Chromium over the DevTools protocol: opens
// /docs, finds the five operations (create, list, get, update, delete), does "Try it out" on
// create (201) and on get with the new id (200, the same user), and keeps a screenshot at
// OUT/docs.png. Timeouts are generous (a loaded 2-core CI machine); only start-ups are retried.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

const arg = (name) => {
  const i = process.argv.indexOf(name);
  if (i < 0 || !process.argv[i + 1]) throw new Error(`${name} is required`);
  return process.argv[i + 1];
};
const repo = arg('--repo');
const out = arg('--out');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures++;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

// A raw request (no URL normalisation: "/docs/../x" goes as it is).
function request(port, method, target, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers, timeout: 60000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject).on('timeout', () => req.destroy(new Error(`${method} ${target}: timed out`)));
    req.end();
  });
}

async function until(what, ms, fn, every = 250) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(every);
  }
  throw new Error(`${what}: not within ${ms / 1000} s${last ? ` (last: ${last.message})` : ''}`);
}

function killGroup(child, signal) {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, signal);
    } catch { /* gone */ }
  }
}

async function stop(child, graceMs) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  killGroup(child, 'SIGTERM');
  if (await Promise.race([done.then(() => true), sleep(graceMs).then(() => false)])) return;
  killGroup(child, 'SIGKILL');
  await done;
}

// ---- the DevTools protocol over one page's WebSocket ----------------------------------------
class Page {
  constructor(ws) {
    this.ws = ws;
    this.next = 1;
    this.pending = new Map();
    ws.addEventListener('message', (m) => {
      const msg = JSON.parse(m.data);
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result);
      }
    });
  }

  static async open(url) {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve, { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    return new Page(ws);
  }

  send(method, params = {}) {
    const id = this.next++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`${method}: no answer within 60 s`));
      }, 60000);
    });
  }

  async eval(expr) {
    const r = await this.send('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`${expr.slice(0, 60)}: ${r.exceptionDetails.exception?.description || r.exceptionDetails.text}`);
    return r.result.value;
  }

  async click(selector) {
    const ok = await this.eval(`(() => { const e = document.querySelector(${JSON.stringify(selector)});
      if (!e) return false; e.scrollIntoView({block: 'center'}); e.click(); return true; })()`);
    if (!ok) throw new Error(`no ${selector} to click`);
  }

  // Types as a person would: empty the field (an example may fill it), focus it, insert the text.
  async type(selector, text) {
    const sel = JSON.stringify(selector);
    const ok = await this.eval(`(() => { const e = document.querySelector(${sel});
      if (!e) return false; e.scrollIntoView({block: 'center'});
      const proto = e.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      Object.getOwnPropertyDescriptor(proto, 'value').set.call(e, '');
      e.dispatchEvent(new Event('input', {bubbles: true})); e.focus(); return true; })()`);
    if (!ok) throw new Error(`no ${selector} to type into`);
    await this.send('Input.insertText', { text });
    await until(`${selector} holds what was typed`, 10000, () => this.eval(`document.querySelector(${sel}).value === ${JSON.stringify(text)}`));
  }
}

const op = (id) => `#operations-users-${id}`;

// "Try it out" on one operation; fill() types its inputs; returns {status, body} as shown.
async function tryItOut(page, id, fill) {
  await page.click(`${op(id)} .opblock-summary-control`);
  await until(`${id}: Try it out button`, 30000, () => page.eval(`!!document.querySelector('${op(id)} .try-out__btn')`));
  await page.click(`${op(id)} .try-out__btn`);
  await until(`${id}: Execute button`, 30000, () => page.eval(`!!document.querySelector('${op(id)} .execute')`));
  await fill();
  await sleep(1500); // Swagger UI's parameter inputs are debounced (300 ms) before its state has them
  await page.click(`${op(id)} .execute`);
  return until(`${id}: a response`, 60000, () => page.eval(`(() => {
    const s = document.querySelector('${op(id)} .live-responses-table .response .response-col_status');
    const b = document.querySelector('${op(id)} .live-responses-table .response-col_description pre');
    const u = document.querySelector('${op(id)} .request-url pre');
    return s && b ? { status: s.textContent.trim(), body: b.textContent, url: u ? u.textContent : '' } : null; })()`));
}

async function main() {
  const port = await freePort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-browser-'));
  fs.mkdirSync(out, { recursive: true });
  let stack;
  let browser;
  let page;
  let shotTaken = false;
  try {
    // ---- the local stack ----
    stack = spawn(path.join(repo, 'scripts', 'run.sh'), ['--in-memory', '--port', String(port), '--instances', '1'], {
      cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, USERS_SKIP_DEPS: '1', USERS_SKIP_BUILD: '1', USERS_GATEWAY: arg('--gateway'), USERS_BOOTSTRAP: arg('--bootstrap') },
    });
    let stackLog = '';
    stack.stdout.on('data', (d) => { stackLog += d; });
    stack.stderr.on('data', (d) => { stackLog += d; });
    const exited = new Promise((r) => stack.once('exit', (code) => r(code)));
    await Promise.race([
      until('scripts/run.sh: /docs answers', 240000, async () => (await request(port, 'GET', '/users')).status === 200
        && (await request(port, 'GET', '/docs')).status === 200, 500),
      exited.then((code) => { throw new Error(`scripts/run.sh exited (${code}):\n${stackLog.slice(-3000)}`); }),
    ]);
    const base = `http://127.0.0.1:${port}`;

    // ---- the gateway's own paths, over HTTP ----
    const json = await request(port, 'GET', '/openapi.json');
    const doc = JSON.parse(json.body);
    check(json.status === 200 && json.headers['content-type'] === 'application/json', '/openapi.json: 200 application/json');
    check(doc.servers?.length === 1 && doc.servers[0].url === base, `/openapi.json: servers is the local base URL (${doc.servers?.[0]?.url})`);
    check(!/"x-amazon-apigateway-|"Fn::/.test(json.body), '/openapi.json: no x-amazon-apigateway-* extension, no intrinsic left');
    const yaml = await request(port, 'GET', '/openapi.yaml');
    check(yaml.status === 200 && yaml.headers['content-type'].startsWith('application/yaml')
      && JSON.stringify(YAML.parse(yaml.body)) === JSON.stringify(doc), '/openapi.yaml: the same document, as YAML');
    const head = await request(port, 'HEAD', '/docs/swagger-ui-bundle.js');
    const size = fs.statSync(path.join(repo, 'node_modules', 'swagger-ui-dist', 'swagger-ui-bundle.js')).size;
    check(head.status === 200 && head.body === '' && Number(head.headers['content-length']) === size
      && head.headers['content-type'] === 'text/javascript; charset=utf-8' && head.headers['cache-control'] === 'no-cache',
    'HEAD /docs/swagger-ui-bundle.js: headers and length, no body');
    const again = await request(port, 'GET', '/docs/swagger-ui.css', { 'If-None-Match': (await request(port, 'HEAD', '/docs/swagger-ui.css')).headers.etag });
    check(again.status === 304, `If-None-Match with the ETag: 304 (${again.status})`);
    for (const t of ['/docs/../package.json', '/docs/%2e%2e/package.json', '/docs/.bin', '/docs/nope.js']) {
      const r = await request(port, 'GET', t);
      check(r.status === 404 && !r.headers['x-amzn-requestid'], `${t}: 404 from the gateway itself`);
    }
    const post = await request(port, 'POST', '/openapi.json');
    check(post.status === 405 && post.headers.allow === 'GET, HEAD', 'POST /openapi.json: 405, Allow: GET, HEAD');
    const fn = await request(port, 'GET', '/docsx');
    check(fn.status === 404 && fn.headers['x-amzn-requestid'] && /NOT_FOUND/.test(fn.body), '/docsx still reaches the function');

    // ---- Chromium ----
    browser = spawn('chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--no-first-run', '--no-default-browser-check', '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1',
      `--user-data-dir=${path.join(tmp, 'profile')}`, '--window-size=1280,2400', 'about:blank'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let browserLog = '';
    browser.stderr.on('data', (d) => { browserLog += d; });
    const devtools = await until('Chromium: DevTools listening', 120000, () => /DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(browserLog)?.[1]);
    const pageWs = await until('Chromium: a page target', 60000, async () => {
      const list = JSON.parse((await request(Number(devtools), 'GET', '/json/list')).body);
      return list.find((t) => t.type === 'page')?.webSocketDebuggerUrl;
    });
    page = await Page.open(pageWs);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Page.navigate', { url: `${base}/docs` });

    const ops = ['createUser', 'listUsers', 'getUser', 'updateUser', 'deleteUser'];
    const listed = await until('/docs: the operations rendered', 120000, () => page.eval(
      `(() => { const ids = ${JSON.stringify(ops)}.filter((id) => document.querySelector('${op('')}' + id));
        return ids.length === ${ops.length} ? ids : null; })()`));
    check(listed.length === 5, `/docs lists the five operations: ${listed.join(', ')}`);
    const title = await page.eval("document.querySelector('.info .title')?.textContent || ''");
    check(/Users API/.test(title), `/docs shows the document's title (${title.trim()})`);

    const email = `ada.${Date.now()}@example.com`;
    const created = await tryItOut(page, 'createUser', () => page.type(`${op('createUser')} textarea.body-param__text`,
      JSON.stringify({ name: 'Ada Lovelace', email, age: 36 })));
    const user = JSON.parse(created.body);
    check(created.status === '201' && user.email === email && /^[0-9a-f-]{36}$/.test(user.userId),
      `Try it out: create is 201 with the new user (${created.status})`);
    const got = await tryItOut(page, 'getUser', () => page.type(`${op('getUser')} input[placeholder="userId"]`, user.userId));
    const same = JSON.parse(got.body);
    check(got.status === '200' && same.userId === user.userId && same.email === email,
      `Try it out: get with its id is 200 with the same user (${got.status} ${got.url})`);

    const shot = await page.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    const png = path.join(out, 'docs.png');
    fs.writeFileSync(png, Buffer.from(shot.data, 'base64'));
    shotTaken = true;
    check(fs.statSync(png).size > 10000, `screenshot kept: ${png} (${fs.statSync(png).size} bytes)`);
  } finally {
    if (page && !shotTaken) { // what the page showed when the test failed
      try {
        const shot = await page.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
        fs.writeFileSync(path.join(out, 'docs-failed.png'), Buffer.from(shot.data, 'base64'));
        console.log(`screenshot of the failure: ${path.join(out, 'docs-failed.png')}`);
      } catch (e) {
        console.log(`no screenshot of the failure: ${e.message}`);
      }
    }
    page?.ws.close();
    await stop(browser, 5000);
    await stop(stack, 20000);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(failures ? `FAILED: ${failures}` : 'passed');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.error(`FAIL ${e.stack || e}`);
  process.exit(1);
});
