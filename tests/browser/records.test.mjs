// SPDX-License-Identifier: AGPL-3.0-or-later
// records.test.mjs - the person and plate checks in headless Chromium
// against the real amaned, with a small set made by `amane records
// generate` and imported over the API, and a few records of our own: in
// the console (a dispatcher) a person typed in the other script is found
// with both spellings shown, a read without a reason is refused in the
// page's language, the ref is the selected incident's number (as the access
// log shows), a stolen plate typed in Latin letters raises the red banner
// with the plate shown as it reads (12345 | أ | 6, not reversed); French is
// left to right with the Arabic names still right to left. On the patrol
// terminal (a phone) a plate check answers red with the action to take, a
// clean plate green, no network "not checked"; the room's console gets the
// patrol's hit as an alert with the nearest available units, and a click
// centres the map on it. Screenshots of each screen go to ARTIFACTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, ARTIFACTS, SCALE, DEMO_PASSWORD, BIN } from './lib.mjs';

const T = 15000 * SCALE;
const UNIT = 'CAS-P-01';
const CHECKPOINT = { lat: 33.5731, lon: -7.5898 }; // Casablanca, place des Nations Unies
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true };

let env, room, console_, gen;
const ids = {};

function near(point, metres) {
  const k = metres / Math.SQRT2 / 111320;
  return { lat: point.lat + k, lon: point.lon + k / Math.cos((point.lat * Math.PI) / 180) };
}

async function osmand(device, at) {
  const r = await fetch(`http://127.0.0.1:${env.osmandPort}/?id=${device}&lat=${at.lat}&lon=${at.lon}&timestamp=${Date.now()}`);
  assert.equal(r.status, 200);
}

async function login(page, username) {
  await page.fill('#username', username);
  await page.fill('#password', DEMO_PASSWORD);
  await page.press('#password', 'Enter');
}

// Where the serial, the Arabic letter and the prefecture code of a plate are drawn:
// from left to right, as the plate reads, in either page.
async function plateOrder(page, selector) {
  return page.$eval(selector, (e) => {
    const text = [...e.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE);
    const r = document.createRange();
    const x = (node, i) => { r.setStart(node, i); r.setEnd(node, i + 1); return r.getBoundingClientRect().left; };
    const first = text[0], last = text[text.length - 1];
    return [x(first, 0), e.querySelector('.p-ar').getBoundingClientRect().left, x(last, last.length - 1)];
  });
}

function assertReadsLeftToRight(xs, what) {
  assert.ok(xs[0] < xs[1] && xs[1] < xs[2], `${what} reads left to right: ${xs}`);
}

before(async () => {
  env = await start({ osmand: true });
  const analyst = await env.token('analyst');
  const supervisor = await env.token('supervisor');
  // A small generated population (the same every run), imported over the API as an analyst would.
  gen = mkdtempSync(join(tmpdir(), 'amane-records-'));
  execFileSync(join(BIN, 'amane'), [`--store.path=${join(gen, 'scratch.db')}`, 'records', 'generate', '--out', gen,
    '--persons', '300', '--vehicles', '150', '--hotlist', '20', '--seed', '7', '--format', 'jsonl'], { stdio: 'ignore' });
  for (const kind of ['persons', 'vehicles', 'hotlist']) {
    const r = await fetch(`${env.base}/api/v1/records/import?kind=${kind}&format=jsonl`, {
      method: 'POST', headers: { Authorization: `Bearer ${analyst}`, 'Content-Type': 'application/x-ndjson' },
      body: readFileSync(join(gen, `${kind}.jsonl`)) });
    assert.equal(r.status, 200, `import ${kind}: ${await r.text()}`);
  }
  // Our own: a wanted man, his car reported stolen, a clean car, a missing woman.
  const post = async (path, body) => {
    const r = await env.api('POST', path, analyst, body);
    assert.equal(r.status, 201, `${path}: ${JSON.stringify(r.data)}`);
    return r.data;
  };
  ids.mohamed = (await post('/api/v1/persons', { cin: 'BE123456', given_ar: 'محمد', family_ar: 'العلوي',
    father_ar: 'أحمد', given_lat: 'Mohamed', family_lat: 'Alaoui', father_lat: 'Ahmed', birth_date: '1985-03-12',
    birth_place: 'Casablanca', nationality: 'MAR', sex: 'M', phones: ['0612345678'],
    addresses: ['12, rue Tarik Ibn Ziad, Casablanca'] })).id;
  ids.car = (await post('/api/v1/vehicles', { plate: '12345 | أ | 6', vin: 'VF1LM1B0H12345678', make: 'Dacia',
    model: 'Logan', colour: 'blanc', year: 2018, owner_cin: 'BE123456' })).id;
  await post('/api/v1/vehicles', { plate: '54321 | ب | 1', make: 'Renault', model: 'Clio', colour: 'gris', year: 2020 });
  await post('/api/v1/hotlist', { kind: 'stolen', plate: '12345-A-6', reason: 'Plainte n° 4567/2026 — vol',
    service: 'Préfecture de police de Casablanca', action: 'seize', valid_until: '2027-12-31',
    instructions: 'Immobiliser le véhicule, interpeller les occupants, aviser la salle' });
  await post('/api/v1/hotlist', { kind: 'wanted', cin: 'BE123456', reason: "Mandat d'arrêt n° 2026/1234",
    service: 'DGSN — Police judiciaire, Casablanca', action: 'arrest',
    instructions: 'Individu pouvant être armé : demander un renfort avant toute approche' });
  // The patrol's unit at the checkpoint, two available units near it, reporting over OsmAnd.
  for (const [cs, d] of [[UNIT, 0], ['CAS-P-02', 400], ['CAS-P-03', 1500]]) {
    const r = await env.api('POST', '/api/v1/devices', supervisor, { device: `rec-${cs}`, protocol: 'osmand', unit: cs });
    assert.equal(r.status, 201, JSON.stringify(r.data));
    await osmand(`rec-${cs}`, near(CHECKPOINT, d));
  }
});

after(async () => {
  if (room) await room.close();
  if (env) await env.stop();
  if (gen) rmSync(gen, { recursive: true, force: true });
});

test('console: person and plate checks, reasons, hotlist banner, languages', async () => {
  const dispatcher = await env.token('dispatcher');
  const supervisor = await env.token('supervisor');
  const inc = await env.api('POST', '/api/v1/incidents', dispatcher, { type: 'ASSAULT', priority: 2,
    location: { lat: CHECKPOINT.lat, lon: CHECKPOINT.lon, address: 'Place des Nations Unies' } });
  assert.equal(inc.status, 201);
  ids.incident = inc.data.number;

  room = await env.browser.newContext({ viewport: { width: 1600, height: 900 } });
  const page = await room.newPage();
  console_ = page;
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d|WebSocket connection/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${env.base}/console/`);
  await login(page, 'dispatcher');
  await page.waitForSelector('#room:not([hidden])', { timeout: T });
  await page.waitForSelector('#stream-state.on', { timeout: T });

  // The selected incident's number becomes the reads' ref.
  await page.click(`#queue .q-item[data-number="${ids.incident}"]`);
  await page.waitForSelector('#detail:not([hidden])', { timeout: T });

  // F2 from anywhere: the records tab, the cursor in the name.
  await page.keyboard.press('F2');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'rp-name');
  assert.equal(await page.isHidden('#intake'), true, 'the tab takes the intake\'s place');
  assert.equal(await page.inputValue('#rec-ref'), ids.incident);

  // No reason: the server refuses, and the page says why in Arabic.
  await page.keyboard.type('Mohammed El Alaoui');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#rec-error').textContent.length > 0, null, { timeout: T });
  assert.equal(await page.textContent('#rec-error'), 'سبب الاطلاع إلزامي: كل اطلاع على السجلات يُقيَّد باسمك وسببه');
  assert.equal(await page.getAttribute('#rec-reason', 'aria-invalid'), 'true');
  assert.equal(await page.locator('#rec-out .rec-item').count(), 0);

  // With a reason: the Latin spelling finds the record, shown in both scripts, wanted.
  await page.fill('#rec-reason', 'تحقق من الهوية');
  await page.press('#rp-name', 'Enter');
  await page.waitForSelector('#rec-out .rec-item', { timeout: T });
  assert.equal(await page.textContent('#rec-error'), '');
  const first = page.locator('#rec-out .rec-item').first();
  assert.equal(await first.getAttribute('data-id'), String(ids.mohamed));
  assert.equal(await first.locator('.n-ar').textContent(), 'محمد العلوي');
  assert.equal(await first.locator('.n-ar').getAttribute('dir'), 'rtl');
  assert.equal(await first.locator('.n-lat').textContent(), 'Mohamed ALAOUI');
  assert.match(await first.locator('.score').textContent(), /^\d+%$/);
  await page.waitForSelector('#rec-hot .hot-banner.hot-wanted', { timeout: T });
  assert.match(await page.textContent('#rec-hot .hot-wanted'), /مبحوث عنه[\s\S]*إلقاء القبض[\s\S]*demander un renfort/);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.id), String(ids.mohamed), 'the first result has the focus');

  // Enter opens the record (the same reason and ref): his car, in the plate's own order.
  await page.keyboard.press('Enter');
  await page.waitForSelector('#rec-out .record', { timeout: T });
  assert.match(await page.textContent('#rec-out .record'), /\+212612345678/);
  assert.equal(await page.textContent('#rec-out .record .rec-results .plate'), '12345 | أ | 6');

  // Each read is in the access log with the reason and the incident as ref.
  const log = await env.api('GET', `/api/v1/records/access?subject=person:${ids.mohamed}`, supervisor);
  assert.equal(log.status, 200);
  const mine = log.data.items.filter((a) => a.actor === 'dispatcher');
  assert.deepEqual(mine.map((a) => [a.action, a.reason, a.ref]).sort(), [
    ['person.read', 'تحقق من الهوية', ids.incident], ['person.search', 'تحقق من الهوية', ids.incident]]);

  // F3: a stolen plate typed in Latin letters; the red banner, the plate as it reads.
  await page.keyboard.press('F3');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'rv-plate');
  await page.keyboard.type('12345-A-6');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#rec-hot .hot-banner.hot-stolen', { timeout: T });
  assert.equal(await page.inputValue('#rec-reason'), 'تحقق من الهوية', 'the reason is kept');
  const banner = page.locator('#rec-hot .hot-stolen');
  assert.equal(await banner.locator('.plate').textContent(), '12345 | أ | 6');
  assert.match(await banner.textContent(), /مسروق[\s\S]*الحجز[\s\S]*Immobiliser le véhicule[\s\S]*Préfecture de police de Casablanca[\s\S]*2027-12-31/);
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#rec-hot .hot-stolen')).backgroundColor), 'rgb(142, 28, 22)', 'red');
  assertReadsLeftToRight(await plateOrder(page, '#rec-hot .hot-stolen .plate'), 'the banner\'s plate in the Arabic page');
  assert.equal(await page.textContent('#rec-out .rec-item .plate'), '12345 | أ | 6');
  assertReadsLeftToRight(await plateOrder(page, '#rec-out .rec-item .plate'), 'the result\'s plate');
  // A misreading (I for 1) finds it too, lower.
  await page.fill('#rv-plate', 'I2345A6');
  await page.press('#rv-plate', 'Enter');
  await page.waitForFunction(() => /\d+%/.test(document.querySelector('#rec-hot .hot-approx')?.textContent || ''), null, { timeout: T });
  const score = Number((await page.textContent('#rec-out .rec-item .score')).replace('%', ''));
  assert.ok(score > 0 && score < 100, `a lower score: ${score}`);
  await page.fill('#rv-plate', '12345 A 6');
  await page.press('#rv-plate', 'Enter');
  await page.waitForFunction(() => !document.querySelector('#rec-hot .hot-approx') && document.querySelector('#rec-hot .hot-stolen'), null, { timeout: T });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'nothing wider than the screen');
  await page.screenshot({ path: join(ARTIFACTS, 'records-console-ar.png') });

  // French: left to right, the words in French, the Arabic names still right to left.
  await page.click('#lang');
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
  assert.equal(await page.textContent('#tab-records span'), 'Fichiers');
  assert.match(await banner.textContent(), /Volé[\s\S]*Conduite à tenir: Saisir/);
  assert.equal(await banner.locator('.plate').textContent(), '12345 | أ | 6');
  assertReadsLeftToRight(await plateOrder(page, '#rec-hot .hot-stolen .plate'), 'the plate in the French page');
  // Without a reason, in French this time.
  await page.fill('#rec-reason', '');
  await page.fill('#rp-name', 'محمد العلوي');
  await page.press('#rp-name', 'Enter');
  await page.waitForFunction(() => document.querySelector('#rec-error').textContent.startsWith('Le motif'), null, { timeout: T });
  assert.match(await page.textContent('#rec-error-detail'), /reason/, "the server's own words below");
  // The Arabic spelling in the French page: the same man, his Arabic name right to left.
  await page.fill('#rec-reason', "contrôle d'identité");
  await page.press('#rp-name', 'Enter');
  await page.waitForFunction((id) => document.querySelector('#rec-out .rec-item')?.dataset.id === String(id), ids.mohamed, { timeout: T });
  assert.equal(await page.textContent('#rec-error'), '');
  assert.equal(await page.locator('#rec-out .rec-item .n-ar').first().getAttribute('dir'), 'rtl');
  const nameBox = await page.locator('#rec-out .rec-item .n-ar').first().evaluate((e) => getComputedStyle(e).direction);
  assert.equal(nameBox, 'rtl');
  await page.screenshot({ path: join(ARTIFACTS, 'records-console-fr.png') });
  await page.click('#lang'); // back to Arabic for the alert
  // N takes a call again: the intake comes back, with the queue.
  await page.keyboard.press('Escape');
  await page.keyboard.press('n');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'in-type');
  assert.equal(await page.isVisible('#queue'), true);
  assert.deepEqual(errors, [], 'no page errors');
});

test('mdt: plate and CIN checks on a phone, the room alerted with the nearest units', async () => {
  const dispatcher = await env.token('dispatcher');
  const context = await env.browser.newContext(PHONE);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|net::ERR_|WebSocket connection/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${env.base}/mdt/`);
  await login(page, 'patrol');
  await page.waitForSelector('#signon:not([hidden])', { timeout: T });
  await page.waitForSelector(`#unit-pick option[value="${UNIT}"]`, { state: 'attached', timeout: T });
  await page.selectOption('#unit-pick', UNIT);
  await page.click('#signon button[type=submit]');
  await page.waitForSelector('#duty:not([hidden])', { timeout: T });
  assert.equal((await env.api('POST', `/api/v1/incidents/${ids.incident}/assign`, dispatcher, { unit: UNIT })).status, 200);
  await page.waitForSelector('#incident:not([hidden])', { timeout: T });
  // The unit's reported position is where the server places the check: wait until it has it.
  for (let i = 0; i < 100 && !(await env.api('GET', `/api/v1/units/${UNIT}`, dispatcher)).data.position; i++) {
    await new Promise((ok) => setTimeout(ok, 100));
  }

  // The check screen, from the main one: the ref is the assignment's incident.
  await page.click('#open-check');
  await page.waitForSelector('#check:not([hidden])', { timeout: T });
  assert.equal(await page.isHidden('#duty'), true);
  assert.equal(await page.inputValue('#ck-ref'), ids.incident);
  assert.equal(await page.inputValue('#ck-reason'), 'rsn_traffic');
  const since = (await env.api('GET', '/healthz')).data.head_seq;
  await page.fill('#ck-plate-in', '12345A6');
  await page.click('#ck-plate button[type=submit]');
  await page.waitForSelector('#ck-result.ck-red', { timeout: T });
  assert.match(await page.textContent('#ck-result .ck-verdict'), /إشعار بالبحث/);
  assert.equal(await page.textContent('#ck-result .ck-action'), 'الحجز');
  assert.equal(await page.textContent('#ck-result .ck-what .plate'), '12345 | أ | 6');
  assertReadsLeftToRight(await plateOrder(page, '#ck-result .ck-what .plate'), 'the hit\'s plate');
  const big = await page.$eval('#ck-result .ck-action', (e) => parseFloat(getComputedStyle(e).fontSize));
  assert.ok(big >= 30, `the action in very large type (${big}px)`);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'nothing wider than the phone');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, 'records-mdt-hit-ar.png'), fullPage: true });

  // The room hears of it: who asked, where, the nearest available units; a click centres the map.
  const alert = console_.locator('#alerts li.hot-alert', { hasText: UNIT });
  await alert.waitFor({ timeout: T });
  const text = await alert.textContent();
  assert.match(text, /إشعار بالبحث/);
  assert.match(text, /12345 \| أ \| 6/);
  assert.match(text, /patrol · CAS-P-01/);
  assert.match(text, /CAS-P-02 \(\d+ م\)/, `the nearest available unit first: ${text}`);
  assert.ok(text.indexOf('CAS-P-02') < text.indexOf('CAS-P-03'), 'nearest first');
  await alert.click();
  await console_.waitForFunction(({ lat, lon }) => {
    const c = window.amaneMap.map.getCenter();
    return Math.abs(c.lat - lat) < 0.002 && Math.abs(c.lng - lon) < 0.002;
  }, CHECKPOINT, { timeout: T });
  await console_.screenshot({ path: join(ARTIFACTS, 'records-console-alert-ar.png') });
  const ev = await env.api('GET', `/api/v1/events?since=${since}&limit=1000`, await env.token('supervisor'));
  assert.equal(ev.status, 200, JSON.stringify(ev.data));
  const hit = ev.data.items.filter((e) => e.type === 'records.hotlist.hit' && e.data.unit === UNIT);
  assert.equal(hit.length, 1, 'one alert for one check');

  // A CIN: the wanted man, arrest.
  await page.fill('#ck-person-in', 'be 123456');
  await page.click('#ck-person button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#ck-result .ck-action')?.textContent === 'إلقاء القبض', null, { timeout: T });
  assert.match(await page.textContent('#ck-result .ck-people'), /محمد العلوي/);

  // French; a clean plate is an honest green.
  await page.click('#lang');
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
  await page.fill('#ck-plate-in', '54321 | ب | 1');
  await page.click('#ck-plate button[type=submit]');
  await page.waitForSelector('#ck-result.ck-clear', { timeout: T });
  assert.match(await page.textContent('#ck-result .ck-verdict'), /Rien/);
  assert.match(await page.textContent('#ck-result'), /Aucun signalement/);
  assert.equal(await page.textContent('#ck-result .ck-what .plate'), '54321 | ب | 1');
  assertReadsLeftToRight(await plateOrder(page, '#ck-result .ck-what .plate'), 'the plate as typed');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, 'records-mdt-nohit-fr.png'), fullPage: true });

  // No network: not checked, and said so; nothing waits in the outbox.
  let sent = 0;
  page.on('request', (r) => { if (r.url().includes('/hotlist/check')) sent++; });
  await context.setOffline(true);
  await page.click('#ck-plate button[type=submit]');
  await page.waitForSelector('#ck-result.ck-offline', { timeout: T });
  assert.match(await page.textContent('#ck-result'), /Hors ligne : vérification non faite/);
  assert.equal(await page.getAttribute('#sync', 'class'), 'sync offline', 'the header says so too');
  assert.equal(sent, 0);
  await page.screenshot({ path: join(ARTIFACTS, 'records-mdt-offline-fr.png'), fullPage: true });
  await context.setOffline(false);
  await page.click('#ck-result button');
  await page.waitForSelector('#ck-result.ck-clear', { timeout: T });
  await page.waitForSelector('#sync.ok', { timeout: T });

  // Back to the main screen.
  await page.click('#check-back');
  await page.waitForSelector('#duty:not([hidden])', { timeout: T });
  assert.equal(await page.isHidden('#check'), true);
  assert.equal(await page.locator('#outbox li').count(), 0);
  assert.deepEqual(errors, [], 'no page errors');
  await context.close();
});
