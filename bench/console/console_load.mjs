// SPDX-License-Identifier: AGPL-3.0-or-later
// console_load.mjs - the console under the load of issue 6: N units moving
// at one position a second each (OsmAnd reports over HTTP keep-alive, as
// phones send them) and M open incidents, in Debian's headless Chromium.
// Measures, over --seconds after --warmup:
//   - frames per second while the map is panned continuously (every frame
//     redraws every unit and incident), and while it is still;
//   - device -> screen latency: from a report's own time (its timestamp,
//     taken when it is sent) to the animation frame that drew it (one
//     clock: everything runs on this machine).
// Prints one JSON line. Usage (bench/console/run.sh builds and calls it):
//   node console_load.mjs [--units 2000] [--incidents 500] [--seconds 20] [--warmup 5]
import { start } from '../../tests/browser/lib.mjs';
import http from 'node:http';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const UNITS = arg('units', 2000), INCIDENTS = arg('incidents', 500);
const SECONDS = arg('seconds', 20), WARMUP = arg('warmup', 5);
// Inside the shipped Casablanca extract.
const BOX = { s: 33.556, n: 33.591, w: -7.622, e: -7.558 };
const rnd = (a, b) => a + Math.random() * (b - a);

const env = await start({ osmand: true });
const sup = await env.token('supervisor');
const admin = await env.api('POST', '/api/v1/auth/login', null, { username: 'admin', password: 'amane-admin-2025' });

// Units and their phones, then the incidents, through the API (10 at a time).
async function inBatches(n, fn) {
  for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, k) => fn(i + k)));
}
const t0 = Date.now();
await inBatches(UNITS, async (i) => {
  const cs = `LOAD-${String(i).padStart(4, '0')}`;
  const r = await env.api('POST', '/api/v1/units', sup, { callsign: cs, kind: 'car_patrol' });
  if (r.status !== 201) throw new Error(`unit ${cs}: ${r.status}`);
  const d = await env.api('POST', '/api/v1/devices', admin.data.token, { device: `load-${i}`, protocol: 'osmand', unit: cs });
  if (d.status !== 201 && d.status !== 200) throw new Error(`device ${i}: ${d.status} ${JSON.stringify(d.data)}`);
});
const TYPES = ['THEFT', 'ASSAULT', 'DISTURBANCE', 'TRAFFIC_NOINJURY', 'SUSPICIOUS_PERSON', 'VANDALISM'];
await inBatches(INCIDENTS, async (i) => {
  const r = await env.api('POST', '/api/v1/incidents', sup, { type: TYPES[i % TYPES.length],
    location: { lat: rnd(BOX.s, BOX.n), lon: rnd(BOX.w, BOX.e), address: `Charge ${i}` } });
  if (r.status !== 201) throw new Error(`incident ${i}: ${r.status}`);
});
const setupS = (Date.now() - t0) / 1000;

// The phones: each reports once a second, spread over the second, on 50 keep-alive connections.
const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
const pos = Array.from({ length: UNITS }, () => ({ lat: rnd(BOX.s, BOX.n), lon: rnd(BOX.w, BOX.e) }));
let sent = 0, acked = 0, failed = 0, running = true;
function report(i) {
  const p = pos[i];
  p.lat = Math.min(BOX.n, Math.max(BOX.s, p.lat + rnd(-0.0002, 0.0002)));
  p.lon = Math.min(BOX.e, Math.max(BOX.w, p.lon + rnd(-0.0002, 0.0002)));
  const q = `/?id=load-${i}&lat=${p.lat.toFixed(6)}&lon=${p.lon.toFixed(6)}&timestamp=${Date.now()}&speed=20`;
  sent++;
  const req = http.get({ host: '127.0.0.1', port: env.osmandPort, path: q, agent }, (res) => {
    res.resume();
    res.on('end', () => { if (res.statusCode === 200) acked++; else failed++; });
  });
  req.on('error', () => { failed++; });
}
const tick = 20; // ms
const perTick = UNITS * tick / 1000;
let next = 0, carry = 0;
const timer = setInterval(() => {
  if (!running) return;
  carry += perTick;
  while (carry >= 1) { report(next); next = (next + 1) % UNITS; carry--; }
}, tick);

const context = await env.browser.newContext({ viewport: { width: 1600, height: 900 } });
const page = await context.newPage();
await page.goto(`${env.base}/console/`);
await page.fill('#username', 'dispatcher');
await page.fill('#password', 'amane-demo-2025');
await page.press('#password', 'Enter');
await page.waitForSelector('#stream-state.on', { timeout: 30000 });
await page.waitForFunction((n) => window.amaneMap && window.amaneMap.incidents.size >= n, INCIDENTS, { timeout: 30000 });
await page.waitForTimeout(WARMUP * 1000);

async function measure(pan) {
  const before = await page.evaluate(() => {
    window.amaneMap.latencies.length = 0;
    return { frames: window.amaneMap.frames, t: performance.now() };
  });
  const sentBefore = sent;
  if (pan) {
    // A dispatcher dragging the map to and fro with the mouse for the whole measure:
    // every frame moves the view, so every frame redraws every unit and incident.
    const box = await page.locator('#map').boundingBox();
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    const end = Date.now() + SECONDS * 1000;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let i = 0; Date.now() < end; i++) {
      const a = (i % 80) / 80 * 2 * Math.PI;
      await page.mouse.move(cx + 150 * Math.cos(a), cy + 100 * Math.sin(a));
    }
    await page.mouse.up();
  } else {
    await page.waitForTimeout(SECONDS * 1000);
  }
  const after = await page.evaluate(() => ({ frames: window.amaneMap.frames, t: performance.now(),
    lat: window.amaneMap.latencies.slice() }));
  const lat = after.lat.sort((a, b) => a - b);
  const pct = (q) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] : null);
  return { fps: Math.round((after.frames - before.frames) / ((after.t - before.t) / 1000) * 10) / 10,
    drawn: lat.length, reports_per_s: Math.round((sent - sentBefore) / SECONDS),
    latency_ms: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99), max: lat.length ? lat[lat.length - 1] : null } };
}
const still = await measure(false);
const panning = await measure(true);
running = false;
clearInterval(timer);
console.log(JSON.stringify({ units: UNITS, incidents: INCIDENTS, seconds: SECONDS, setup_s: setupS,
  sent, acked, failed, still, panning }));
await context.close();
agent.destroy();
await env.stop();
