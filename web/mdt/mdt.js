// SPDX-License-Identifier: AGPL-3.0-or-later
// mdt.js - the patrol terminal: a phone in the car. Log in, sign on to the
// unit, see the current assignment (address, ETA, route on a small map),
// change status, write notes, read and acknowledge the room's messages,
// and check a plate or a person (check.js).
//
// The network in a car comes and goes, so every change goes through an
// outbox kept in localStorage: each command carries an Idempotency-Key made
// when the officer pressed the button, and is re-sent, in order, until the
// server answers. The server applies a key once and answers its replays
// with the first answer, so a command whose answer was lost is not applied
// twice. A refusal (4xx) is shown and dropped: re-sending would not help.
import { t, setLang, currentLang, fmtTime, loadTimeZone, addStrings, submitLogin } from '../common/i18n.js';
import { setupCheck } from './check.js';

addStrings({
  ar: {
    mdt_app: 'أمان', sign_on: 'الالتحاق بوحدة', sign_off: 'مغادرة الوحدة', unit: 'الوحدة',
    assignment: 'المهمة الحالية', no_assignment: 'لا توجد مهمة حاليًا', status: 'الحالة',
    note: 'ملاحظة إلى القاعة', send: 'إرسال', messages: 'رسائل القاعة', no_messages: 'لا توجد رسائل',
    outbox: 'في انتظار الإرسال', outbox_empty: 'تم إرسال كل شيء', ack: 'تم الاستلام',
    ping: 'نداء تحقق', acked: 'تم التأكيد', eta: 'الوصول المتوقع', minutes: 'د', km: 'كلم',
    stale: 'الموقع قديم', no_route: 'لا يمكن حساب المسار', sync_ok: 'متصل',
    sync_pending: 'في الانتظار', sync_offline: 'غير متصل', refused: 'مرفوض',
    resend: 'سيُعاد الإرسال تلقائيًا عند عودة الشبكة', notes: 'الملاحظات',
    why_403: 'غير مسموح لهذه الوحدة', why_404: 'غير موجود', why_409: 'غير ممكن في الحالة الحالية',
    why_422: 'طلب غير صالح',
    not_patrol: 'هذه الواجهة مخصصة للدوريات', map: 'المسار نحو التدخل',
    st_available: 'متاح', st_dispatched: 'موجَّه', st_en_route: 'في الطريق',
    st_on_scene: 'في عين المكان', st_transporting: 'نقل', st_at_station: 'في المقر',
    st_out_of_service: 'خارج الخدمة', cmd_status: 'الحالة', cmd_note: 'ملاحظة', cmd_ack: 'تأكيد رسالة',
    hazard: 'تنبيه',
  },
  fr: {
    mdt_app: 'amane', sign_on: "Prendre l'unité", sign_off: "Quitter l'unité", unit: 'Unité',
    assignment: 'Mission en cours', no_assignment: 'Aucune mission', status: 'Statut',
    note: 'Note à la salle', send: 'Envoyer', messages: 'Messages de la salle', no_messages: 'Aucun message',
    outbox: "En attente d'envoi", outbox_empty: 'Tout est envoyé', ack: 'Bien reçu',
    ping: 'Appel de contrôle', acked: 'Confirmé', eta: 'Arrivée estimée', minutes: 'min', km: 'km',
    stale: 'Position ancienne', no_route: 'Itinéraire impossible', sync_ok: 'En ligne',
    sync_pending: 'En attente', sync_offline: 'Hors ligne', refused: 'Refusé',
    resend: 'Renvoi automatique dès le retour du réseau', notes: 'Notes',
    why_403: 'non autorisé pour cette unité', why_404: 'introuvable', why_409: "impossible dans l'état actuel",
    why_422: 'demande invalide',
    not_patrol: 'Ce terminal est réservé aux patrouilles', map: "Itinéraire vers l'intervention",
    st_available: 'Disponible', st_dispatched: 'Engagée', st_en_route: 'En route',
    st_on_scene: 'Sur place', st_transporting: 'Transport', st_at_station: 'Au poste',
    st_out_of_service: 'Hors service', cmd_status: 'Statut', cmd_note: 'Note', cmd_ack: 'Accusé de message',
    hazard: 'Attention',
  },
});

const $ = (id) => document.getElementById(id);
const OUTBOX = 'amane.mdt.outbox';
const RETRY_MS = [1000, 2000, 4000, 8000, 15000];
let token = sessionStorage.getItem('amane.mdt.token');
let me = null;
let state = null; // the last GET /api/v1/mdt
let outbox = JSON.parse(localStorage.getItem(OUTBOX) || '[]');
let flushing = false;
let online = true;
let lastSeq = 0;
let ws = null;
let refreshTimer = null;
let checking = false; // the check screen is open instead of the duty screen

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// One request; throws on a network failure or after `ms` without an answer.
async function request(method, path, body, headers = {}, ms = 10000) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ms);
  try {
    const r = await fetch(path, { method, headers: h, signal: ctl.signal,
      body: body === undefined ? undefined : JSON.stringify(body) });
    const data = r.status === 204 ? null : await r.json().catch(() => null);
    return { status: r.status, data };
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ outbox

function saveOutbox() {
  localStorage.setItem(OUTBOX, JSON.stringify(outbox));
  renderOutbox();
}

function queue(kind, method, path, body, label) {
  outbox.push({ key: crypto.randomUUID(), user: me.username, kind, method, path, body, label,
    queued: new Date().toISOString(), tries: 0 });
  saveOutbox();
  flush();
}

function setSync(key) {
  const s = $('sync');
  s.className = `sync ${key}`;
  s.textContent = t(`sync_${key}`) + (outbox.length ? ` (${outbox.length})` : '');
}

// Sends the outbox in order; stops at the first command the network did not carry.
async function flush() {
  if (flushing || !token) return;
  flushing = true;
  try {
    while (outbox.length && token) {
      const c = outbox[0];
      if (c.user !== me.username) { outbox.shift(); saveOutbox(); continue; } // another crew's leftovers
      let r = null;
      try {
        r = await request(c.method, c.path, c.body, { 'Idempotency-Key': c.key });
      } catch (e) { r = null; }
      if (r && r.status === 401) { logoutLocal(); return; }
      if (!r || r.status >= 500 || r.status === 429 || r.status === 408) {
        online = false;
        c.tries++;
        saveOutbox();
        setSync('offline');
        await sleep(RETRY_MS[Math.min(c.tries, RETRY_MS.length) - 1]);
        continue;
      }
      online = true;
      outbox.shift();
      saveOutbox();
      if (r.status >= 400) {
        // The reason in the crew's language; the server's own words (English) below it.
        const why = t(`why_${r.status}`);
        $('refused').textContent = `${t('refused')}: ${labelOf(c)} — ${why.startsWith('why_') ? r.status : why}`;
        $('refused-detail').textContent = (r.data && r.data.detail) || '';
      } else {
        $('refused').textContent = '';
        $('refused-detail').textContent = '';
      }
    }
    setSync(online ? 'ok' : 'offline');
    refresh();
  } finally {
    flushing = false;
  }
}

function labelOf(c) {
  if (c.kind === 'status') return `${t('cmd_status')}: ${t('st_' + c.body.status)}`;
  if (c.kind === 'note') return `${t('cmd_note')}: ${c.body.text.slice(0, 40)}`;
  return `${t('cmd_ack')} #${c.label}`;
}

function renderOutbox() {
  $('outbox').replaceChildren(...outbox.map((c) => {
    const li = el('li', null, labelOf(c));
    li.dir = 'auto';
    li.dataset.key = c.key;
    return li;
  }));
  $('outbox-empty').hidden = outbox.length > 0;
  $('resend').hidden = outbox.length === 0;
  if (me) setSync(outbox.length ? (online ? 'pending' : 'offline') : 'ok');
}

// ------------------------------------------------------------------ state

async function refresh() {
  if (!token) return;
  let r;
  try { r = await request('GET', '/api/v1/mdt'); } catch (e) { setSync('offline'); return; }
  if (r.status === 401) { logoutLocal(); return; }
  if (r.status === 403) { $('login-error').textContent = t('not_patrol'); logoutLocal(); return; }
  if (r.status !== 200) return;
  state = r.data;
  render();
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 150);
}

function render() {
  const signed = state && state.unit;
  $('signon').hidden = !!signed;
  $('duty').hidden = !signed || checking;
  $('check').hidden = !signed || !checking;
  $('callsign').textContent = signed ? state.unit.callsign : '';
  if (!signed) { loadUnits(); return; }
  const u = state.unit;
  // The status the crew asked for last, until the server has it.
  const asked = [...outbox].reverse().find((c) => c.kind === 'status');
  const shown = asked ? asked.body.status : u.status;
  const badge = $('unit-status');
  badge.textContent = t('st_' + shown) + (asked ? ' …' : '');
  badge.className = `status-badge st-${shown}${asked ? ' pending' : ''}`;
  $('unit-since').textContent = fmtTime(u.status_since);
  for (const b of document.querySelectorAll('#statuses button')) {
    b.classList.toggle('current', b.dataset.status === shown);
  }
  renderIncident();
  renderMessages();
  renderOutbox();
}

function renderIncident() {
  const inc = state.incident;
  $('incident').hidden = !inc;
  $('no-assignment').hidden = !!inc;
  $('note').hidden = !inc;
  if (!inc) return;
  $('inc-prio').textContent = `P${inc.priority}`;
  $('inc-prio').className = `prio p${inc.priority}`;
  $('inc-type').textContent = currentLang() === 'ar' ? inc.type_ar : inc.type_fr;
  $('inc-number').textContent = inc.number;
  const loc = inc.location || {};
  const place = inc.place || {};
  const lang = currentLang();
  $('inc-address').textContent = loc.address || (loc.lat !== undefined ? `${loc.lat}, ${loc.lon}` : '');
  $('inc-place').textContent = [place.sector && place.sector[lang], place.prefecture && place.prefecture[lang]]
    .filter(Boolean).join(' · ');
  const route = state.route;
  if (route) {
    const min = Math.max(1, Math.round(route.eta_s / 60));
    $('inc-eta').textContent = `${t('eta')}: ${min} ${t('minutes')} · ${(route.length_m / 1000).toFixed(1)} ${t('km')}` +
      (route.stale ? ` · ${t('stale')}` : '');
  } else {
    $('inc-eta').textContent = t('no_route');
  }
  drawMap(route, loc);
  $('inc-hazards').replaceChildren(...(inc.hazards || []).map((h) => {
    const li = el('li', null, `⚠ ${t('hazard')}: ${h.text}`);
    li.dir = 'auto';
    return li;
  }));
  $('inc-narrative').textContent = inc.narrative || '';
  const notes = (inc.notes || []).slice(-5).reverse();
  $('inc-notes-title').hidden = notes.length === 0;
  $('inc-notes').replaceChildren(...notes.map((n) => {
    const li = el('li');
    li.append(el('div', 'meta', `${fmtTime(n.ts)} · ${n.author}`));
    const p = el('div', null, n.text);
    p.dir = 'auto';
    li.append(p);
    return li;
  }));
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// The route, the unit and the incident on a plain local projection (metres
// east and north of the middle), with a scale bar; north is up.
function drawMap(route, loc) {
  const map = $('map');
  const title = $('map-title');
  map.replaceChildren(title);
  title.textContent = t('map');
  const pts = route ? route.points.map(([la, lo]) => [la, lo]) : [];
  if (route) pts.push([route.from.lat, route.from.lon]);
  if (loc.lat !== undefined) pts.push([loc.lat, loc.lon]);
  map.hidden = pts.length < 2;
  if (pts.length < 2) return;
  const W = 360, H = 200, PAD = 18;
  const lat0 = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const kx = 111320 * Math.cos((lat0 * Math.PI) / 180), ky = 110574;
  const xy = pts.map(([la, lo]) => [lo * kx, la * ky]);
  const xs = xy.map((p) => p[0]), ys = xy.map((p) => p[1]);
  const minx = Math.min(...xs), maxx = Math.max(...xs), miny = Math.min(...ys), maxy = Math.max(...ys);
  const scale = Math.min((W - 2 * PAD) / Math.max(maxx - minx, 50), (H - 2 * PAD) / Math.max(maxy - miny, 50));
  const ox = (W - (maxx - minx) * scale) / 2, oy = (H - (maxy - miny) * scale) / 2;
  const P = ([la, lo]) => [ox + (lo * kx - minx) * scale, H - (oy + (la * ky - miny) * scale)];
  map.append(svg('rect', { x: 0, y: 0, width: W, height: H, class: 'map-bg' }));
  if (route) {
    const d = route.points.map((p, i) => `${i ? 'L' : 'M'}${P(p).map((v) => v.toFixed(1)).join(',')}`).join('');
    map.append(svg('path', { d, class: 'map-route' }));
    const [ux, uy] = P([route.from.lat, route.from.lon]);
    map.append(svg('circle', { cx: ux, cy: uy, r: 7, class: 'map-unit' }));
  }
  if (loc.lat !== undefined) {
    const [ix, iy] = P([loc.lat, loc.lon]);
    map.append(svg('path', { d: `M${ix},${iy - 9}L${ix + 8},${iy}L${ix},${iy + 9}L${ix - 8},${iy}Z`, class: 'map-incident' }));
  }
  // Scale bar: a round length about a quarter of the width.
  const target = (W / 4) / scale;
  const len = [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000].reduce((a, b) => (Math.abs(b - target) < Math.abs(a - target) ? b : a));
  const bx = 10, by = H - 10, bw = len * scale;
  map.append(svg('path', { d: `M${bx},${by - 4}V${by}H${bx + bw}V${by - 4}`, class: 'map-scale' }));
  const label = svg('text', { x: bx + bw + 4, y: by, class: 'map-label' });
  label.textContent = len >= 1000 ? `${len / 1000} km` : `${len} m`;
  map.append(label);
  const north = svg('text', { x: W - 8, y: 16, class: 'map-label', 'text-anchor': 'end' });
  north.textContent = 'N↑';
  map.append(north);
}

function renderMessages() {
  const msgs = state.messages || [];
  $('no-messages').hidden = msgs.length > 0;
  const queuedAcks = new Set(outbox.filter((c) => c.kind === 'ack').map((c) => c.label));
  $('messages').replaceChildren(...msgs.map((m) => {
    const li = el('li', m.kind === 'ping' ? 'ping' : null);
    li.dataset.id = m.id;
    const meta = el('div', 'meta', `${fmtTime(m.sent)} · ${m.from}${m.kind === 'ping' ? ' · ' + t('ping') : ''}`);
    meta.dir = 'auto';
    li.append(meta);
    if (m.text) { const p = el('div', null, m.text); p.dir = 'auto'; li.append(p); }
    if (m.acked) {
      li.append(el('div', 'acked', `✓ ${t('acked')} ${fmtTime(m.acked)}`));
    } else if (queuedAcks.has(String(m.id))) {
      li.append(el('div', 'acked pending', `… ${t('ack')}`));
    } else {
      const b = el('button', 'ack', t('ack'));
      b.type = 'button';
      b.addEventListener('click', () => {
        queue('ack', 'POST', `/api/v1/messages/${m.id}/ack`, {}, String(m.id));
        render();
      });
      li.append(b);
    }
    return li;
  }));
}

async function loadUnits() {
  let r;
  try { r = await request('GET', '/api/v1/units'); } catch (e) { return; }
  if (r.status !== 200) return;
  const pick = $('unit-pick');
  const was = pick.value;
  pick.replaceChildren(...r.data.items.map((u) => {
    const o = el('option', null, `${u.callsign} · ${u.kind}`);
    o.value = u.callsign;
    return o;
  }));
  if (was) pick.value = was;
}

// ------------------------------------------------------------------ stream

function onEvent(ev) {
  if (typeof ev.seq !== 'number') return;
  lastSeq = ev.seq;
  const d = ev.data || {};
  const mine = state && state.unit && (d.unit === state.unit.callsign ||
    (state.incident && d.incident === state.incident.number) || d.user === me.username);
  if (mine) {
    if (ev.type === 'cad.unit.message' && navigator.vibrate) navigator.vibrate([200, 100, 200]);
    scheduleRefresh();
  }
}

function connect() {
  if (!token) return;
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const since = lastSeq ? `&since=${lastSeq}` : '';
  ws = new WebSocket(`${proto}://${location.host}/api/v1/stream?access_token=${encodeURIComponent(token)}${since}`);
  ws.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { /* a bad frame */ } };
  ws.onopen = () => { refresh(); flush(); };
  ws.onclose = () => { ws = null; if (token) setTimeout(connect, 2000); };
}

// ------------------------------------------------------------------ session

function startDuty() {
  $('login').hidden = true;
  setSync(outbox.length ? 'pending' : 'ok');
  refresh();
  flush();
  connect();
}

function logoutLocal() {
  token = null;
  me = null;
  state = null;
  sessionStorage.removeItem('amane.mdt.token');
  if (ws) { ws.onclose = null; ws.close(); ws = null; }
  $('login').hidden = false;
  $('signon').hidden = true;
  $('duty').hidden = true;
  $('check').hidden = true;
  checking = false;
  check.clear();
  $('callsign').textContent = '';
  $('sync').textContent = '';
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const d = await submitLogin((path, body) => request('POST', path, body));
  if (!d) return;
  token = d.token;
  me = d.user;
  sessionStorage.setItem('amane.mdt.token', token);
  startDuty();
});

$('signon').addEventListener('submit', async (e) => {
  e.preventDefault();
  const unit = $('unit-pick').value;
  let r;
  try { r = await request('POST', `/api/v1/units/${encodeURIComponent(unit)}/sign-on`, {}); } catch (err) {
    $('signon-error').textContent = t('sync_offline');
    return;
  }
  $('signon-error').textContent = r.status === 200 ? '' : (r.data && r.data.detail) || t('error');
  refresh();
});

$('statuses').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-status]');
  if (!b || !state || !state.unit) return;
  queue('status', 'POST', `/api/v1/units/${encodeURIComponent(state.unit.callsign)}/status`,
    { status: b.dataset.status });
  render();
});

$('note').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('note-text').value.trim();
  if (!text || !state || !state.incident) return;
  queue('note', 'POST', `/api/v1/incidents/${encodeURIComponent(state.incident.number)}/notes`, { text });
  $('note-text').value = '';
});

$('signoff').addEventListener('click', async () => {
  if (!state || !state.unit) return;
  try { await request('POST', `/api/v1/units/${encodeURIComponent(state.unit.callsign)}/sign-off`, {}); } catch (e) { return; }
  refresh();
});

$('logout').addEventListener('click', async () => {
  try { await request('POST', '/api/v1/auth/logout'); } catch (e) { /* the token expires anyway */ }
  logoutLocal();
});

$('lang').addEventListener('click', () => {
  setLang(currentLang() === 'ar' ? 'fr' : 'ar');
  if (state) render();
  check.render();
});

// The check screen: reads, not commands; they go now or not at all (check.js).
const check = setupCheck({
  request: (method, path, body) => request(method, path, body, {}, 8000),
  incident: () => (state && state.incident ? state.incident.number : null),
  onUnauthorized: () => logoutLocal(),
  onNetwork: (up) => {
    if (!up) { online = false; setSync('offline'); } else if (!online) { online = true; refresh(); }
  },
});

function showCheck(on) {
  checking = on;
  if (state) render();
  window.scrollTo(0, 0);
  if (on) check.open(); else $('open-check').focus();
}
$('open-check').addEventListener('click', () => showCheck(true));
$('check-back').addEventListener('click', () => showCheck(false));

window.addEventListener('online', () => flush());
setInterval(() => { if (token && outbox.length) flush(); }, 5000);
setInterval(() => { if (token) refresh(); }, 20000);

setLang(currentLang());
renderOutbox();
await loadTimeZone();
if (token) {
  request('GET', '/api/v1/me').then((r) => {
    if (r.status === 200) { me = r.data; startDuty(); } else logoutLocal();
  }).catch(() => logoutLocal());
}
