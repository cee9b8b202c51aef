// SPDX-License-Identifier: AGPL-3.0-or-later
// console.test.mjs - the command-room console in headless Chromium against
// the real amaned and `amane simulate` driving patrols: log in, see the
// offline map (roads, boundaries, units), take a call from the keyboard
// (N, type, / street searched in Arabic, Ctrl+Enter), see the recommended
// units, dispatch the first with Enter, watch the simulated crew go en route
// and on scene on the unit board, write in the logbook, switch Arabic <->
// French and check the page direction, cut the stream and check the changes
// made meanwhile appear after the reconnect (since=). Screenshots of each
// screen go to ARTIFACTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, ARTIFACTS, SCALE } from './lib.mjs';

let env, base, browser, api;

before(async () => {
  env = await start({ osmand: true });
  // Every unit of the demo database driven, so that whichever is recommended answers.
  env.simulate(14, ['--speedup', '6', '--interval-ms', '1000']);
  ({ base, browser, api } = env);
});

after(async () => {
  if (env) await env.stop();
});

test('console: map, call intake from the keyboard, dispatch, languages, reconnect', async () => {
  const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Failed reconnects during the deliberate network cut are expected console errors.
  page.on('console', (m) => { if (m.type() === 'error' && !/WebSocket connection|ERR_INTERNET_DISCONNECTED|status of 401/.test(m.text())) errors.push(m.text()); });
  const T = 15000 * SCALE;
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

  await page.fill('#password', 'amane-demo-2025');
  await page.press('#password', 'Enter');
  await page.waitForSelector('#room:not([hidden])', { timeout: T });
  await page.waitForSelector('#stream-state.on', { timeout: T });
  // The map: roads and boundaries drawn by Leaflet, the simulated units moving on it.
  await page.waitForFunction(() => document.querySelectorAll('#map .leaflet-overlay-pane canvas').length > 0, null, { timeout: T });
  await page.waitForFunction(() => window.amaneMap && window.amaneMap.latencies.length >= 6, null, { timeout: 2 * T });
  const moved = await page.evaluate(() => window.amaneMap.latencies.length);
  assert.ok(moved > 0, 'positions arrive on the map');

  // A call, from the keyboard only: N, the type, / the street in Arabic, Ctrl+Enter.
  await page.keyboard.press('n');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'in-type');
  await page.selectOption('#in-type', 'ASSAULT');
  await page.keyboard.press('Escape');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'in-street');
  await page.keyboard.type('محمد السادس');
  await page.waitForSelector('#in-streets li', { timeout: T });
  const suggestion = await page.textContent('#in-streets li');
  assert.match(suggestion, /محمد السادس/);
  assert.match(suggestion, /Mohammed VI/, 'the French name beside the Arabic one');
  await page.keyboard.press('Enter');
  assert.match(await page.textContent('#in-where'), /33\.\d+, -7\.\d+/, 'the street gives the point');
  await page.fill('#in-caller', 'Fatima Zahra Bennani');
  await page.fill('#in-phone', '+212 661 000 111');
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#detail:not([hidden]) #d-recs li', { timeout: T });
  const number = (await page.textContent('#d-number')).trim();
  assert.match(number, /^CAS-\d{4}-\d{6}$/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'd-recs', 'the recommendations take the focus');
  const first = await page.getAttribute('#d-recs li', 'data-callsign');
  assert.match(await page.textContent('#d-recs li'), /\d+ د · \d+\.\d كلم/, 'ETA and road distance');
  await page.screenshot({ path: join(ARTIFACTS, 'console-intake-ar.png') });
  // A geofence around the place: the unit driving into it raises an alert on the console.
  const loc = await api('GET', `/api/v1/incidents/${number}`, await env.token('supervisor'));
  const fence = await api('POST', '/api/v1/geofences', await env.token('supervisor'), { name: 'Périmètre rixe',
    circle: { lat: loc.data.location.lat, lon: loc.data.location.lon, radius_m: 200 } });
  assert.equal(fence.status, 201);
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => document.querySelector('#d-recs-note').textContent.includes(n), first, { timeout: T });
  const inc = await api('GET', `/api/v1/incidents/${number}`, await env.token('supervisor'));
  assert.deepEqual(inc.data.units.map((u) => u.callsign), [first], 'the first recommended unit is dispatched');
  assert.equal(inc.data.caller.name, 'Fatima Zahra Bennani');
  // The simulated crew answers: en route, then on scene, on the unit board and in the timeline.
  for (const st of ['en_route', 'on_scene']) {
    await page.waitForFunction(([cs, s]) => {
      const u = window.amaneConsole.units.get(cs);
      return u && u.status === s;
    }, [first, st], { timeout: 6 * T });
  }
  await page.waitForFunction((cs) => [...document.querySelectorAll('#units tr')].some((tr) => tr.dataset.callsign === cs &&
    tr.textContent.includes('في عين المكان')), first, { timeout: T });
  await page.waitForFunction(() => document.querySelector('#d-timeline').textContent.includes('في عين المكان'), null, { timeout: T });
  await page.waitForFunction((cs) => [...document.querySelectorAll('#alerts li')].some((li) =>
    li.textContent.includes('دخول منطقة') && li.textContent.includes(cs) && li.textContent.includes('Périmètre rixe')), first, { timeout: T });
  // A click on the unit on the map: its details in a popup.
  const at = await page.evaluate((cs) => {
    const u = window.amaneMap.units.get(cs);
    const p = window.amaneMap.map.latLngToContainerPoint([u.lat, u.lon]);
    return { x: p.x, y: p.y };
  }, first);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + at.x, box.y + at.y);
  await page.waitForSelector('.leaflet-popup .unit-popup', { timeout: T });
  assert.match(await page.textContent('.leaflet-popup .unit-popup'), new RegExp(`${first}.*(في عين المكان|في الطريق)`));
  await page.screenshot({ path: join(ARTIFACTS, 'console-dispatched-ar.png') });

  // The logbook, in its tab.
  await page.click('#tab-logbook');
  const text = 'بلاغ: حادث سير في شارع الزرقطوني · accident bd Zerktouni';
  await page.fill('#text', text);
  await page.selectOption('#category', 'call');
  await page.click('#entry button[type=submit]');
  await page.waitForFunction((t) => [...document.querySelectorAll('#entries li')].some((li) => li.textContent.includes(t)), text, { timeout: T });
  await page.waitForFunction(() => [...document.querySelectorAll('#events li')].some((li) => li.textContent.includes('logbook.entry')), null, { timeout: T });
  await page.click('#tab-queue');

  await page.click('#lang');
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
  assert.equal((await page.textContent('#intake h2')).replace(/\s+/g, ' ').trim(), 'Nouvel appel N');
  assert.equal(await page.getAttribute('#in-street', 'placeholder'), 'Nom de rue, ou cliquez sur la carte');
  await page.waitForFunction((cs) => [...document.querySelectorAll('#units tr')].some((tr) => tr.dataset.callsign === cs &&
    tr.textContent.includes('Sur place')), first, { timeout: T });
  await page.screenshot({ path: join(ARTIFACTS, 'console-room-fr.png') });

  // Cut the stream; change things meanwhile through the API; the console must show them after reconnecting.
  const before = Number(await page.textContent('#last-seq'));
  cut = true;
  for (const ws of sockets) ws.close();
  sockets.clear();
  await page.waitForSelector('#stream-state.off', { timeout: T });
  const sup = await env.token('supervisor');
  const missed = [];
  for (let i = 0; i < 2; i++) {
    const r = await api('POST', '/api/v1/logbook', sup, { category: 'info', text: `pendant la coupure ${i}` });
    assert.equal(r.status, 201);
    missed.push(r.data.seq);
  }
  const during = await api('POST', '/api/v1/incidents', sup, { type: 'FIRE', location: { lat: 33.585, lon: -7.61, address: 'Place des Nations Unies' } });
  assert.equal(during.status, 201);
  cut = false;
  await page.waitForSelector('#stream-state.on', { timeout: 3 * T });
  await page.waitForFunction((n) => [...document.querySelectorAll('#queue .q-item')].some((b) => b.dataset.number === n), during.data.number, { timeout: T });
  const seen = await page.evaluate((m) => m.map((seq) => window.amaneConsole.seen.has(seq)), missed);
  assert.deepEqual(seen, missed.map(() => true), 'every event written during the cut was received after it');
  assert.ok(Math.min(...missed) > before);
  await page.screenshot({ path: join(ARTIFACTS, 'console-after-reconnect-fr.png') });

  // Logging out leads back to the login form, in French now.
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])', { timeout: T });
  assert.equal(await page.textContent('#login h2'), 'Se connecter');
  await page.screenshot({ path: join(ARTIFACTS, 'console-login-fr.png') });

  assert.deepEqual(errors, [], 'no page errors');
  await context.close();
});
