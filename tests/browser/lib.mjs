// SPDX-License-Identifier: AGPL-3.0-or-later
// lib.mjs - what the browser tests share: a real amaned on a fresh demo
// database on a free loopback port, Debian's headless Chromium, and a small
// API client for the setup the tests do behind the page's back.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const BIN = process.env.AMANE_BIN_DIR;
export const SRC = process.env.AMANE_SOURCE_DIR;
export const ARTIFACTS = process.env.AMANE_ARTIFACTS || join(tmpdir(), 'amane-browser-artifacts');
export const SCALE = Number(process.env.AMANE_INTEGRATION_TIMEOUT_SCALE || 1);
export const DEMO_PASSWORD = 'amane-demo-2025';
export const ADMIN_PASSWORD = 'amane-admin-2025';

function freePort() {
  return new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}

// Starts amaned (and Chromium) for one test file; stop() ends both and
// fails on a sanitizer report in the server's log. With `osmand`, amaned
// also listens for OsmAnd reports (the simulator's and the load's).
export async function start({ args = [], osmand = false } = {}) {
  assert.ok(BIN && SRC, 'AMANE_BIN_DIR and AMANE_SOURCE_DIR must be set');
  mkdirSync(ARTIFACTS, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'amane-browser-'));
  const db = join(dir, 'amane.db');
  execFileSync(join(BIN, 'amane'), [`--store.path=${db}`, 'demo', 'seed'], { stdio: 'ignore' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const osmandPort = osmand ? await freePort() : -1;
  const env = { ...process.env, AMANE_AVL_OSMAND_PORT: String(osmandPort), AMANE_AVL_TELTONIKA_PORT: '-1' };
  const server = spawn(join(BIN, 'amaned'), [`--server.port=${port}`, `--store.path=${db}`,
    `--server.web_root=${join(SRC, 'web')}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let log = '';
  server.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 100 * SCALE; i++) {
    try { if ((await fetch(base + '/healthz')).ok) break; } catch (e) { /* not up yet */ }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    // playwright gives every launch a fresh, empty profile directory of its own.
  });
  async function api(method, path, token, body, headers = {}) {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    if (body) h['Content-Type'] = 'application/json';
    const r = await fetch(base + path, { method, headers: h, body: body ? JSON.stringify(body) : undefined });
    const text = await r.text();
    return { status: r.status, data: text ? JSON.parse(text) : null };
  }
  async function token(username) {
    const r = await api('POST', '/api/v1/auth/login', null, { username, password: DEMO_PASSWORD });
    assert.equal(r.status, 200, `login ${username}`);
    return r.data.token;
  }
  // `amane simulate` driving `units` patrols over OsmAnd; stopped by stop().
  const sims = [];
  function simulate(units, extra = []) {
    const p = spawn(join(BIN, 'amane'), [`--store.path=${db}`, 'simulate', '--server', base, '--units',
      String(units), '--protocol', 'osmand', '--osmand-port', String(osmandPort), ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AMANE_SIM_PASSWORD: ADMIN_PASSWORD } });
    p.out = '';
    p.stdout.on('data', (d) => { p.out += d; });
    p.stderr.on('data', (d) => { p.out += d; });
    sims.push(p);
    return p;
  }
  async function stop() {
    for (const p of sims) p.kill('SIGTERM');
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((ok) => setTimeout(ok, 300));
    assert.ok(!/AddressSanitizer|runtime error:/.test(log), `sanitizer report in amaned's log:\n${log}`);
    rmSync(dir, { recursive: true, force: true });
  }
  return { base, browser, api, token, stop, simulate, db, osmandPort, log: () => log };
}
