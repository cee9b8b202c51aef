// SPDX-License-Identifier: AGPL-3.0-or-later
// console.js - the command-room console: login, the room's logbook, and the
// live event stream. The stream reconnects with since=<last seq seen>, so
// nothing committed while the network was down is missed.
import { t, setLang, currentLang, fmtTime, loadTimeZone } from '../common/i18n.js';

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('amane.token');
let me = null;
let lastSeq = Number(sessionStorage.getItem('amane.lastSeq') || 0);
let ws = null;
let retry = 0;
let streamOn = false;
let statusKey = '';
const recent = []; // the last events seen, newest first, re-rendered on a language switch

async function api(method, path, body, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (r.status === 401 && path !== '/api/v1/auth/login') logoutLocal();
  return { status: r.status, data };
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderEntry(e, prepend) {
  const li = el('li');
  li.dataset.id = e.id;
  const meta = el('div', 'meta', `${fmtTime(e.ts)} · ${e.author} · ${t('cat_' + e.category)}`);
  meta.dir = 'auto';
  li.append(meta);
  const p = el('div', null, e.text);
  p.dir = 'auto';
  li.append(p);
  const list = $('entries');
  if (list.querySelector(`[data-id="${e.id}"]`)) return;
  prepend ? list.prepend(li) : list.append(li);
}

async function loadLogbook() {
  const r = await api('GET', '/api/v1/logbook?limit=50');
  $('entries').replaceChildren();
  if (r.status !== 200) return;
  if (!r.data.items.length) $('entries').append(el('li', 'muted', t('no_entries')));
  for (const e of r.data.items) renderEntry(e, false);
}

function streamState(on) {
  streamOn = on;
  const b = $('stream-state');
  b.className = `badge ${on ? 'on' : 'off'}`;
  b.textContent = t(on ? 'connected' : 'reconnecting');
}

function setStatus(key, detail = '') {
  statusKey = key;
  $('entry-status').textContent = key ? `${t(key)}${detail ? ': ' + detail : ''}` : '';
}

function renderEvents() {
  $('events').replaceChildren(...recent.map((ev) => {
    const li = el('li');
    const meta = el('div', 'meta', `#${ev.seq} · ${fmtTime(ev.ts)} · ${ev.actor}`);
    meta.dir = 'auto';
    li.append(meta, el('div', null, ev.type));
    return li;
  }));
}

function onEvent(ev) {
  if (ev.type === 'stream.hello') return;
  // Live state (avl.positions) has no sequence number: it is not an event of the log.
  if (typeof ev.seq !== 'number') return;
  lastSeq = ev.seq;
  sessionStorage.setItem('amane.lastSeq', String(lastSeq));
  $('last-seq').textContent = String(lastSeq);
  recent.unshift(ev);
  if (recent.length > 100) recent.pop();
  renderEvents();
  if (ev.type === 'logbook.entry') loadLogbook();
}

function connect() {
  if (!token) return;
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const since = lastSeq ? `&since=${lastSeq}` : '';
  ws = new WebSocket(`${proto}://${location.host}/api/v1/stream?access_token=${encodeURIComponent(token)}${since}`);
  ws.onopen = () => { retry = 0; streamState(true); };
  ws.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { /* ignore a bad frame */ } };
  ws.onclose = () => {
    streamState(false);
    if (!token) return;
    retry = Math.min(retry + 1, 5);
    setTimeout(connect, 500 * retry);
  };
}

function showRoom() {
  $('login').hidden = true;
  $('room').hidden = false;
  $('logout').hidden = false;
  $('who').hidden = false;
  $('who').textContent = `${me.username} · ${t('role')}: ${me.role}`;
  loadLogbook();
  connect();
}

function logoutLocal() {
  token = null;
  sessionStorage.removeItem('amane.token');
  if (ws) { ws.onclose = null; ws.close(); ws = null; }
  $('login').hidden = false;
  $('room').hidden = true;
  $('logout').hidden = true;
  $('who').hidden = true;
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await api('POST', '/api/v1/auth/login', { username: $('username').value, password: $('password').value });
  $('password').value = '';
  if (r.status !== 200) {
    $('login-error').textContent = t(r.status === 423 ? 'locked' : 'bad_login');
    return;
  }
  $('login-error').textContent = '';
  token = r.data.token;
  me = r.data.user;
  sessionStorage.setItem('amane.token', token);
  showRoom();
});

$('entry').addEventListener('submit', async (e) => {
  e.preventDefault();
  // One key per entry: a retry after a network error is applied once.
  const key = crypto.randomUUID();
  const body = { category: $('category').value, text: $('text').value };
  let r;
  for (let attempt = 0; attempt < 3; attempt++) {
    try { r = await api('POST', '/api/v1/logbook', body, { 'Idempotency-Key': key }); break; }
    catch (err) { await new Promise((ok) => setTimeout(ok, 500)); }
  }
  if (r && r.status === 201) {
    $('text').value = '';
    setStatus('saved');
    renderEntry(r.data, true);
  } else {
    setStatus('error', (r && r.data && r.data.detail) || '');
  }
});

$('logout').addEventListener('click', async () => {
  await api('POST', '/api/v1/auth/logout');
  logoutLocal();
});

$('lang').addEventListener('click', () => {
  setLang(currentLang() === 'ar' ? 'fr' : 'ar');
  if (me) $('who').textContent = `${me.username} · ${t('role')}: ${me.role}`;
  if (!$('room').hidden) {
    loadLogbook();
    renderEvents();
    streamState(streamOn);
    setStatus(statusKey);
  }
});

setLang(currentLang());
await loadTimeZone();
if (token) {
  api('GET', '/api/v1/me').then((r) => {
    if (r.status === 200) { me = r.data; showRoom(); } else logoutLocal();
  });
}
