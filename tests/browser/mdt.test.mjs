// SPDX-License-Identifier: AGPL-3.0-or-later
// mdt.test.mjs - the patrol terminal in headless Chromium, phone-sized,
// against the real amaned: log in as a patrol, sign on to a unit, receive an
// assignment (address, ETA, route on the map), change status and write a
// note through a network that loses requests on their way out and answers
// on their way back, read and acknowledge the room's messages, then keep
// working offline, close the app, and find everything applied exactly once
// after logging in again. Screenshots of each screen go to ARTIFACTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, ARTIFACTS, SCALE, DEMO_PASSWORD } from './lib.mjs';

let env;
const UNIT = 'CAS-P-01';

before(async () => { env = await start(); });
after(async () => { if (env) await env.stop(); });

const T = 15000 * SCALE;
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true };

// A screenshot of the whole page, from its top (the header is sticky).
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

async function login(page, username) {
  await page.fill('#username', username);
  await page.fill('#password', DEMO_PASSWORD);
  await page.press('#password', 'Enter');
}

// The unit's events of one type since the test began, as the log has them.
let since = 0;
async function unitEvents(room, type) {
  const r = await env.api('GET', `/api/v1/events?since=${since}&limit=1000`, room);
  assert.equal(r.status, 200);
  return r.data.items.filter((e) => e.type === type && e.data.unit === UNIT);
}

test('mdt: assignment, statuses and messages through a network that drops requests', async () => {
  const { api, base, browser } = env;
  const dispatcher = await env.token('dispatcher');
  const supervisor = await env.token('supervisor');
  since = (await env.api('GET', '/healthz')).data.head_seq;
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|net::ERR_|WebSocket connection/.test(m.text())) errors.push(m.text());
  });

  // The flaky network: each command's first try is lost on the way out, its
  // second reaches the server but its answer is lost on the way back, the
  // third goes through. Reads pass. `tries` counts by Idempotency-Key.
  const tries = new Map();
  let flaky = false;
  await page.route('**/api/v1/**', async (route) => {
    const req = route.request();
    const key = req.headers()['idempotency-key'];
    if (!flaky || req.method() !== 'POST' || !key) return route.continue();
    const n = (tries.get(key) || 0) + 1;
    tries.set(key, n);
    if (n === 1) return route.abort('internetdisconnected');
    if (n === 2) {
      await route.fetch(); // the server gets it and answers; the phone never sees the answer
      return route.abort('connectionreset');
    }
    return route.continue();
  });

  await page.goto(`${base}/mdt/`);
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl', 'Arabic, right-to-left, by default');
  await shot(page, 'mdt-login-ar.png');
  await login(page, 'patrol');
  await page.waitForSelector('#signon:not([hidden])', { timeout: T });
  await page.waitForSelector(`#unit-pick option[value="${UNIT}"]`, { state: 'attached', timeout: T });
  await page.selectOption('#unit-pick', UNIT);
  await page.click('#signon button[type=submit]');
  await page.waitForSelector('#duty:not([hidden])', { timeout: T });
  assert.equal(await page.textContent('#callsign'), UNIT);
  assert.equal((await page.textContent('#no-assignment')).trim().length > 0, true);

  // The room dispatches the unit to an incident 2 km away.
  assert.equal((await api('POST', `/api/v1/units/${UNIT}/position`, dispatcher, { lat: 33.57267, lon: -7.59409 })).status, 200);
  const inc = await api('POST', '/api/v1/incidents', dispatcher, {
    type: 'ASSAULT', priority: 2, narrative: 'Rixe devant le café, deux blessés légers',
    location: { lat: 33.589, lon: -7.604, address: 'Bd Mohammed V, devant le café Atlas' } });
  assert.equal(inc.status, 201);
  const number = inc.data.number;
  assert.equal((await api('POST', `/api/v1/incidents/${number}/assign`, dispatcher, { unit: UNIT })).status, 200);
  await page.waitForSelector('#incident:not([hidden])', { timeout: T });
  assert.equal(await page.textContent('#inc-number'), number);
  assert.match(await page.textContent('#inc-address'), /Mohammed V/);
  assert.match(await page.textContent('#inc-eta'), /\d+ د · \d+\.\d كلم/, 'ETA in minutes and distance, in Arabic');
  assert.equal(await page.locator('#map .map-route').count(), 1, 'the route is drawn');
  assert.equal(await page.locator('#map .map-incident').count(), 1);
  await shot(page, 'mdt-assignment-ar.png');

  // Statuses and a note through the flaky network.
  flaky = true;
  await page.click('#statuses button[data-status="en_route"]');
  await page.click('#statuses button[data-status="on_scene"]');
  const note = 'وصلنا، الوضع تحت السيطرة · sur place, calme';
  await page.fill('#note-text', note);
  await page.click('#note button[type=submit]');
  await page.waitForSelector('#outbox-empty:not([hidden])', { timeout: 6 * T });
  await page.waitForFunction(() => document.querySelector('#unit-status').className === 'status-badge st-on_scene', null, { timeout: T });
  await page.waitForFunction((n) => document.querySelector('#inc-notes').textContent.includes(n), note, { timeout: T });
  assert.equal(tries.size, 3, 'three commands, each with its own key');
  for (const [key, n] of tries) assert.equal(n, 3, `command ${key} was sent three times`);

  const hist = await api('GET', `/api/v1/incidents/${number}/history`, dispatcher);
  const byPatrol = hist.data.events.filter((e) => e.actor === 'patrol');
  assert.deepEqual(byPatrol.map((e) => [e.type, e.data.status || e.data.text]), [
    ['cad.unit.status', 'en_route'], ['cad.incident.status', 'en_route'],
    ['cad.unit.status', 'on_scene'], ['cad.incident.status', 'on_scene'],
    ['cad.incident.note', note]], 'each command applied exactly once, in order');

  // Messages from the room: a message and a ping, shown live; the ping acknowledged once.
  const msg = await api('POST', `/api/v1/units/${UNIT}/messages`, supervisor, { text: 'Renfort en route, attendez-le · الدعم في الطريق' });
  assert.equal(msg.status, 201);
  const ping = await api('POST', `/api/v1/units/${UNIT}/messages`, dispatcher, { kind: 'ping' });
  assert.equal(ping.status, 201);
  await page.waitForSelector(`#messages li.ping[data-id="${ping.data.id}"] button.ack`, { timeout: T });
  await shot(page, 'mdt-messages-ar.png');
  await page.click(`#messages li[data-id="${ping.data.id}"] button.ack`);
  await page.waitForSelector(`#messages li[data-id="${ping.data.id}"] .acked:not(.pending)`, { timeout: 6 * T });
  await page.waitForSelector('#outbox-empty:not([hidden])', { timeout: 6 * T });
  const acked = await unitEvents(supervisor, 'cad.unit.message.acked');
  assert.deepEqual(acked.map((e) => [e.data.id, e.data.acked_by]), [[ping.data.id, 'patrol']]);
  const msgs = await api('GET', `/api/v1/units/${UNIT}/messages`, dispatcher);
  assert.equal(msgs.data.items.find((m) => m.id === msg.data.id).acked, null, 'the message not acknowledged stays so');

  // French, left to right.
  await page.click('#lang');
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
  assert.equal(await page.textContent(`#messages li[data-id="${msg.data.id}"] button.ack`), 'Bien reçu');
  assert.match(await page.textContent('#inc-eta'), /Arrivée estimée: \d+ min/);
  await shot(page, 'mdt-duty-fr.png');

  // No network at all: the crew clears the call; the command waits in the outbox...
  flaky = false;
  await context.setOffline(true);
  await page.click('#statuses button[data-status="available"]');
  await page.waitForSelector('#sync.offline', { timeout: T });
  assert.equal(await page.locator('#outbox li').count(), 1);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    'nothing wider than the phone');
  await shot(page, 'mdt-offline-fr.png');
  // ...and survives the app being closed: a new page, a new login, then it is sent.
  await page.close();
  await context.setOffline(false);
  const again = await context.newPage();
  again.on('pageerror', (e) => errors.push(String(e)));
  await again.goto(`${base}/mdt/`);
  await login(again, 'patrol');
  await again.waitForSelector('#duty:not([hidden])', { timeout: T });
  await again.waitForSelector('#outbox-empty:not([hidden])', { timeout: 3 * T });
  await again.waitForFunction(() => document.querySelector('#unit-status').className === 'status-badge st-available', null, { timeout: T });
  const available = (await unitEvents(supervisor, 'cad.unit.status')).filter((e) => e.data.status === 'available');
  assert.equal(available.length, 1, 'cleared once');

  // A command the server refuses is shown and dropped, not retried forever.
  await again.click('#statuses button[data-status="transporting"]');
  await again.waitForFunction(() => document.querySelector('#refused').textContent.length > 0, null, { timeout: T });
  assert.equal(await again.locator('#outbox li').count(), 0);
  assert.match(await again.textContent('#refused'), /Refusé: Statut: Transport — impossible dans l'état actuel/);
  assert.equal((await api('GET', '/api/v1/units', dispatcher)).data.items.find((u) => u.callsign === UNIT).status, 'available');
  await shot(again, 'mdt-refused-fr.png');

  assert.deepEqual(errors, [], 'no page errors');
  await context.close();
});
