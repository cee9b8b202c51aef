// SPDX-License-Identifier: AGPL-3.0-or-later
// console.test.mjs - the command-room console in headless Chromium against
// the real amaned: log in, write in the logbook, see the event arrive on the
// live stream, switch Arabic <-> French and check the page direction, cut
// the network and check the changes made meanwhile appear after the
// reconnect (since=). Screenshots of each screen go to ARTIFACTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, ARTIFACTS, SCALE } from './lib.mjs';

let env, base, browser, api;

before(async () => {
  env = await start();
  ({ base, browser, api } = env);
});

after(async () => {
  if (env) await env.stop();
});

test('console: login, logbook, live stream, languages, reconnect', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Failed reconnects during the deliberate network cut are expected console errors.
  page.on('console', (m) => { if (m.type() === 'error' && !/WebSocket connection|ERR_INTERNET_DISCONNECTED/.test(m.text())) errors.push(m.text()); });
  const T = 10000 * SCALE;
  // The network cut: the stream goes through this route, which can drop it
  // and refuse reconnects until the cut ends.
  let cut = false;
  const sockets = new Set();
  await page.routeWebSocket(/\/api\/v1\/stream/, (ws) => {
    if (cut) { ws.close(); return; }
    ws.connectToServer();
    sockets.add(ws);
  });

  await page.goto(`${base}/`);
  assert.equal(new URL(page.url()).pathname, '/console/', '/ leads to the console');
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl', 'Arabic, right-to-left, is the default');
  await page.screenshot({ path: join(ARTIFACTS, 'console-login-ar.png') });

  // A wrong password is refused with a message, not a crash.
  await page.fill('#username', 'dispatcher');
  await page.fill('#password', 'not-the-password');
  await page.press('#password', 'Enter');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0, null, { timeout: T });
  errors.length = 0; // the browser reports that refused login (401) as a console error

  await page.fill('#password', 'amane-demo-2025');
  await page.press('#password', 'Enter');
  await page.waitForSelector('#room:not([hidden])', { timeout: T });
  await page.waitForSelector('#stream-state.on', { timeout: T });

  const text = 'بلاغ: حادث سير في شارع الزرقطوني · accident bd Zerktouni';
  await page.fill('#text', text);
  await page.selectOption('#category', 'call');
  await page.click('#entry button[type=submit]');
  await page.waitForFunction((t) => [...document.querySelectorAll('#entries li')].some((li) => li.textContent.includes(t)), text, { timeout: T });
  await page.waitForFunction(() => [...document.querySelectorAll('#events li')].some((li) => li.textContent.includes('logbook.entry')), null, { timeout: T });
  await page.screenshot({ path: join(ARTIFACTS, 'console-room-ar.png') });

  await page.click('#lang');
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
  assert.equal(await page.textContent('#entry button[type=submit]'), 'Consigner');
  await page.screenshot({ path: join(ARTIFACTS, 'console-room-fr.png') });

  // Cut the stream; write meanwhile through the API; the console must show it after reconnecting.
  const before = Number(await page.textContent('#last-seq'));
  cut = true;
  for (const ws of sockets) ws.close();
  sockets.clear();
  await page.waitForSelector('#stream-state.off', { timeout: T });
  const login = await api('POST', '/api/v1/auth/login', null, { username: 'supervisor', password: 'amane-demo-2025' });
  assert.equal(login.status, 200);
  const missed = [];
  for (let i = 0; i < 3; i++) {
    const r = await api('POST', '/api/v1/logbook', login.data.token, { category: 'info', text: `pendant la coupure ${i}` });
    assert.equal(r.status, 201);
    missed.push(r.data.seq);
  }
  cut = false;
  await page.waitForSelector('#stream-state.on', { timeout: 3 * T });
  await page.waitForFunction((seq) => Number(document.querySelector('#last-seq').textContent) >= seq, missed[2], { timeout: T });
  const shown = await page.$$eval('#events li .meta', (els) => els.map((e) => Number(e.textContent.split('·')[0].replace('#', ''))));
  for (const seq of missed) assert.ok(shown.includes(seq), `event ${seq} written during the cut is shown (shown: ${shown})`);
  assert.ok(shown.every((s) => s > 0) && Math.min(...missed) > before);
  await page.screenshot({ path: join(ARTIFACTS, 'console-after-reconnect-fr.png') });

  assert.deepEqual(errors, [], 'no page errors');
  await context.close();
});
