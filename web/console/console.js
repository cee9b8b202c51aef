// SPDX-License-Identifier: AGPL-3.0-or-later
// console.js - the command-room console: the offline map (map.js), the
// incident queue with running timers, the unit board, the alerts, the call
// intake (keyboard first: N, type, /, street, Ctrl+Enter; then Enter or
// 1-5 dispatches a recommended unit), the incident's timeline, the room's
// logbook, and the records checks (records.js: F2 a person, F3 a plate),
// whose hotlist hits, anyone's, come back as alerts. Everything is driven
// by /api/v1/stream; after a cut the stream reconnects with since=<last seq
// seen>, so nothing committed while the network was down is missed.
import { t, setLang, currentLang, fmtTime, loadTimeZone, addStrings, submitLogin } from '../common/i18n.js';
import { CadMap, UNIT_STYLE, legendShape } from './map.js';
import { setupRecords, hotAlertItem } from './records.js';
/* global L */

addStrings({
  ar: {
    intake: 'مكالمة جديدة', type: 'النوع', priority: 'الأولوية', prio_default: 'حسب النوع',
    place: 'المكان', street_hint: 'اسم الشارع، أو انقر على الخريطة', caller: 'المبلّغ',
    phone: 'الهاتف', narrative: 'الوقائع', open_call: 'فتح الحادث', queue: 'الحوادث الجارية',
    recommended: 'الوحدات المقترحة', timeline: 'التسلسل الزمني', units: 'الوحدات', unit: 'الوحدة',
    status: 'الحالة', since: 'منذ', incident: 'الحادث', alerts: 'التنبيهات', no_alerts: 'لا توجد تنبيهات',
    no_incidents: 'لا توجد حوادث جارية', need_place: 'حدد المكان: شارع أو نقرة على الخريطة',
    dispatched_to: 'وُجّهت', eta: 'الوصول', min: 'د', km: 'كلم', stale: 'موقع قديم',
    no_recs: 'لا توجد وحدة متاحة قريبة', dispatch: 'توجيه', picked: 'نقطة على الخريطة',
    st_available: 'متاحة', st_dispatched: 'موجّهة', st_en_route: 'في الطريق', st_on_scene: 'في عين المكان',
    st_transporting: 'نقل', st_at_station: 'في المقر', st_out_of_service: 'خارج الخدمة',
    ist_new: 'جديد', ist_dispatched: 'موجّه', ist_en_route: 'في الطريق', ist_on_scene: 'في عين المكان',
    ist_closed: 'مغلق',
    ev_opened: 'فتح الحادث', ev_assigned: 'توجيه', ev_released: 'تحرير', ev_status: 'حالة',
    ev_note: 'ملاحظة', ev_closed: 'إغلاق', ev_reopened: 'إعادة فتح', ev_linked: 'ربط', ev_merged: 'دمج',
    al_unacknowledged: 'توجيه دون تأكيد', al_on_scene_overdue: 'في عين المكان دون تحديث',
    al_entered: 'دخول منطقة', al_exited: 'خروج من منطقة',
  },
  fr: {
    intake: 'Nouvel appel', type: 'Type', priority: 'Priorité', prio_default: 'selon le type',
    place: 'Lieu', street_hint: 'Nom de rue, ou cliquez sur la carte', caller: 'Requérant',
    phone: 'Téléphone', narrative: 'Faits', open_call: "Ouvrir l'incident", queue: 'Incidents en cours',
    recommended: 'Unités proposées', timeline: 'Chronologie', units: 'Unités', unit: 'Unité',
    status: 'Statut', since: 'Depuis', incident: 'Incident', alerts: 'Alertes', no_alerts: 'Aucune alerte',
    no_incidents: 'Aucun incident en cours', need_place: 'Indiquez le lieu : une rue ou un clic sur la carte',
    dispatched_to: 'Engagée', eta: 'Arrivée', min: 'min', km: 'km', stale: 'position ancienne',
    no_recs: 'Aucune unité disponible à proximité', dispatch: 'Engager', picked: 'Point sur la carte',
    st_available: 'Disponible', st_dispatched: 'Engagée', st_en_route: 'En route', st_on_scene: 'Sur place',
    st_transporting: 'Transport', st_at_station: 'Au poste', st_out_of_service: 'Hors service',
    ist_new: 'Nouveau', ist_dispatched: 'Engagé', ist_en_route: 'En route', ist_on_scene: 'Sur place',
    ist_closed: 'Clos',
    ev_opened: 'Ouverture', ev_assigned: 'Engagement', ev_released: 'Libération', ev_status: 'Statut',
    ev_note: 'Note', ev_closed: 'Clôture', ev_reopened: 'Réouverture', ev_linked: 'Lien', ev_merged: 'Fusion',
    al_unacknowledged: 'Engagement non acquitté', al_on_scene_overdue: 'Sur place sans nouvelles',
    al_entered: 'Entrée de zone', al_exited: 'Sortie de zone',
  },
});

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('amane.token');
let me = null;
let lastSeq = Number(sessionStorage.getItem('amane.lastSeq') || 0);
let ws = null;
let retry = 0;
let streamOn = false;
let map = null;
const types = new Map(); // code -> {name_fr, name_ar, priority}
const units = new Map(); // callsign -> unit (as the API gives it)
const incidents = new Map(); // number -> incident (open ones)
const alerts = [];
const recent = [];
let selected = null; // incident number
let recs = []; // recommendations of the selected incident
let recIdx = 0;
let recNote = null; // what to say under the recommendations: [key, detail]
let pick = null; // the intake's place: {lat, lon, address}
let statusKey = '';
let hitMarker = null; // where the last hotlist hit looked at was checked
const seen = new Set(); // the sequence numbers received, for the browser test
window.amaneConsole = { units, incidents, seen };

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

const lang = () => currentLang();
const typeName = (inc) => (lang() === 'ar' ? inc.type_ar : inc.type_fr) || inc.type;
function ago(iso) {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), ss = s % 60;
  return (h ? `${h}:${String(m).padStart(2, '0')}` : String(m)) + `:${String(ss).padStart(2, '0')}`;
}
function debounce(fn, ms) {
  let timer = null;
  return (...a) => { clearTimeout(timer); timer = setTimeout(() => fn(...a), ms); };
}

// ------------------------------------------------------------------ queue

function sortedIncidents() {
  return [...incidents.values()].sort((a, b) => a.priority - b.priority ||
    Date.parse(a.times.call) - Date.parse(b.times.call));
}

function renderQueue() {
  const list = sortedIncidents();
  if (!list.length) { $('queue').replaceChildren(el('li', 'muted', t('no_incidents'))); return; }
  $('queue').replaceChildren(...list.map((inc) => {
    const li = el('li');
    const b = el('button', `q-item${inc.number === selected ? ' selected' : ''}`);
    b.type = 'button';
    b.dataset.number = inc.number;
    const top = el('div', 'row');
    top.append(el('span', `prio p${inc.priority}`, `P${inc.priority}`), el('strong', null, typeName(inc)),
      el('span', 'timer', ago(inc.times.call)));
    const where = el('div', 'muted small', (inc.location && inc.location.address) ||
      (inc.place && inc.place.sector ? inc.place.sector[lang()] : ''));
    where.dir = 'auto';
    const st = el('div', 'small', `${inc.number} · ${t('ist_' + inc.status)}` +
      (inc.units.length ? ` · ${inc.units.filter((u) => !u.released).map((u) => u.callsign).join(', ')}` : ''));
    b.append(top, where, st);
    b.addEventListener('click', () => selectIncident(inc.number));
    li.append(b);
    return li;
  }));
}

function tickTimers() {
  for (const b of document.querySelectorAll('#queue .q-item')) {
    const inc = incidents.get(b.dataset.number);
    if (inc) b.querySelector('.timer').textContent = ago(inc.times.call);
  }
}

async function loadIncidents() {
  const r = await api('GET', '/api/v1/incidents?status=open&limit=1000');
  if (r.status !== 200) return;
  incidents.clear();
  for (const inc of r.data.items) {
    incidents.set(inc.number, inc);
    if (inc.location && inc.location.lat !== undefined) {
      map.setIncident(inc.number, { lat: inc.location.lat, lon: inc.location.lon, priority: inc.priority });
    }
  }
  renderQueue();
}

async function refreshIncident(number) {
  const r = await api('GET', `/api/v1/incidents/${encodeURIComponent(number)}`);
  if (r.status !== 200) return;
  const inc = r.data;
  if (inc.status === 'closed' || inc.merged_into) {
    incidents.delete(number);
    map.setIncident(number, null);
  } else {
    incidents.set(number, inc);
    if (inc.location && inc.location.lat !== undefined) {
      map.setIncident(number, { lat: inc.location.lat, lon: inc.location.lon, priority: inc.priority });
    }
  }
  renderQueue();
  if (number === selected) renderDetail(inc);
}
const pendingIncidents = new Set();
const flushIncidents = debounce(() => {
  for (const n of pendingIncidents) refreshIncident(n);
  pendingIncidents.clear();
}, 200);

// ------------------------------------------------------------------ units

function renderUnits() {
  const order = ['dispatched', 'en_route', 'on_scene', 'transporting', 'available', 'at_station', 'out_of_service'];
  const list = [...units.values()].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) ||
    a.callsign.localeCompare(b.callsign));
  $('units-count').textContent = `(${list.filter((u) => u.status === 'available').length}/${list.length})`;
  const body = $('units').tBodies[0];
  body.replaceChildren(...list.slice(0, 300).map((u) => {
    const tr = el('tr');
    tr.dataset.callsign = u.callsign;
    const st = el('td', 'st');
    st.append(legendShape(u.status), el('span', null, t('st_' + u.status)));
    const inc = el('td', null, u.incident || '');
    tr.append(el('td', 'cs', u.callsign), st, el('td', 'timer', ago(u.status_since)), inc);
    tr.addEventListener('click', () => { if (u.incident) selectIncident(u.incident); });
    return tr;
  }));
}
const renderUnitsSoon = debounce(renderUnits, 300);

async function loadUnits() {
  const r = await api('GET', '/api/v1/units');
  if (r.status !== 200) return;
  units.clear();
  for (const u of r.data.items) {
    units.set(u.callsign, u);
    map.setUnit(u.callsign, { status: u.status, ...(u.position ? { lat: u.position.lat, lon: u.position.lon } : {}) });
  }
  renderUnits();
}

function renderLegend() {
  $('legend').replaceChildren(...Object.keys(UNIT_STYLE).map((s) => {
    const span = el('span', 'item');
    span.append(legendShape(s), el('span', null, t('st_' + s)));
    return span;
  }));
}

// A unit's details where it stands on the map: callsign, kind, status, since, incident, last report.
function unitPopup(u, at) {
  if (!at || at.lat === undefined) return;
  const box = el('div', 'unit-popup');
  box.dir = lang() === 'ar' ? 'rtl' : 'ltr';
  box.append(el('strong', 'cs', u.callsign), el('div', null, `${t('st_' + u.status)} · ${t('since')} ${ago(u.status_since)}`));
  if (u.incident) box.append(el('div', null, `${t('incident')}: ${u.incident}`));
  if (u.crew && u.crew.length) box.append(el('div', 'muted small', u.crew.join(' · ')));
  L.popup({ closeButton: true, autoPan: false }).setLatLng([at.lat, at.lon]).setContent(box).openOn(map.map);
}

// ------------------------------------------------------------------ detail

async function selectIncident(number) {
  selected = number;
  records.incidentSelected(number);
  map.select('incident', number);
  renderQueue();
  const inc = incidents.get(number);
  if (inc && inc.location && inc.location.lat !== undefined) map.centre(inc.location.lat, inc.location.lon);
  const r = await api('GET', `/api/v1/incidents/${encodeURIComponent(number)}`);
  if (r.status === 200) renderDetail(r.data);
  loadRecommendations(number);
}

function renderDetail(inc) {
  $('detail').hidden = false;
  $('d-prio').textContent = `P${inc.priority}`;
  $('d-prio').className = `prio p${inc.priority}`;
  $('d-type').textContent = typeName(inc);
  $('d-number').textContent = inc.number;
  $('d-where').textContent = [inc.location && inc.location.address,
    inc.place && inc.place.sector && inc.place.sector[lang()]].filter(Boolean).join(' · ');
  const active = inc.units.filter((u) => !u.released);
  $('d-status').textContent = `${t('ist_' + inc.status)} · ${ago(inc.times.call)}` +
    (active.length ? ` · ${active.map((u) => `${u.callsign} (${t('st_' + u.status)})`).join(', ')}` : '');
  loadTimeline(inc.number);
}

async function loadRecommendations(number) {
  recs = [];
  recIdx = 0;
  $('d-recs').replaceChildren();
  setRecNote(null);
  const r = await api('GET', `/api/v1/incidents/${encodeURIComponent(number)}/recommendations?k=5`);
  if (number !== selected) return;
  if (r.status !== 200) { setRecNote(null, (r.data && r.data.detail) || String(r.status)); return; }
  recs = r.data.units;
  if (!recs.length) setRecNote('no_recs');
  renderRecs();
}

function setRecNote(key, detail = '') {
  recNote = key || detail ? [key, detail] : null;
  $('d-recs-note').textContent = recNote ? [key ? t(key) : '', detail].filter(Boolean).join(': ') : '';
}

function renderRecs() {
  setRecNote(...(recNote || []));
  if (!recs.length) { $('d-recs').replaceChildren(); return; }
  $('d-recs').replaceChildren(...recs.map((u, i) => {
    const li = el('li', i === recIdx ? 'current' : null);
    li.dataset.callsign = u.callsign;
    const b = el('button', 'rec');
    b.type = 'button';
    b.append(el('kbd', null, String(i + 1)), el('strong', 'cs', u.callsign),
      el('span', null, `${t('eta')} ${Math.max(1, Math.round(u.eta_s / 60))} ${t('min')} · ${(u.road_m / 1000).toFixed(1)} ${t('km')}`));
    if (u.stale) b.append(el('span', 'muted small', ` · ${t('stale')}`));
    b.addEventListener('click', () => dispatch(i));
    li.append(b);
    return li;
  }));
}

async function dispatch(i) {
  const u = recs[i];
  if (!u || !selected) return;
  const number = selected;
  const r = await api('POST', `/api/v1/incidents/${encodeURIComponent(number)}/assign`, { unit: u.callsign },
    { 'Idempotency-Key': crypto.randomUUID() });
  if (r.status === 200) {
    recs = [];
    setRecNote('dispatched_to', u.callsign);
    renderRecs();
    renderDetail(r.data);
  } else {
    setRecNote(null, (r.data && r.data.detail) || String(r.status));
  }
}

const EV_KEY = { 'cad.incident.opened': 'ev_opened', 'cad.unit.assigned': 'ev_assigned',
  'cad.unit.released': 'ev_released', 'cad.unit.status': 'ev_status', 'cad.incident.note': 'ev_note',
  'cad.incident.closed': 'ev_closed', 'cad.incident.reopened': 'ev_reopened',
  'cad.incident.linked': 'ev_linked', 'cad.incident.merged': 'ev_merged' };

async function loadTimeline(number) {
  const r = await api('GET', `/api/v1/incidents/${encodeURIComponent(number)}/history`);
  if (r.status !== 200 || number !== selected) return;
  const rows = r.data.events.filter((e) => EV_KEY[e.type]).reverse();
  $('d-timeline').replaceChildren(...rows.map((e) => {
    const d = e.data || {};
    const st = d.status ? t((e.type.startsWith('cad.incident.') ? 'ist_' : 'st_') + d.status) : '';
    const what = [d.unit, st, d.text || d.disposition || d.reason || '']
      .filter(Boolean).join(' · ');
    const li = el('li');
    li.append(el('span', 'meta', `${fmtTime(e.ts)} · ${e.actor}`));
    const p = el('div', null, `${t(EV_KEY[e.type])}${what ? ' — ' + what : ''}`);
    p.dir = 'auto';
    li.append(p);
    return li;
  }));
}

function closeDetail() {
  selected = null;
  records.incidentSelected(null);
  recs = [];
  recNote = null;
  map.select(null, null);
  $('detail').hidden = true;
  renderQueue();
}

// ------------------------------------------------------------------ alerts

function addAlert(ev) {
  const d = ev.data || {};
  let key = '';
  if (ev.type.startsWith('cad.alert.')) key = 'al_' + ev.type.slice('cad.alert.'.length);
  else if (ev.type === 'avl.geofence.entered') key = 'al_entered';
  else if (ev.type === 'avl.geofence.exited') key = 'al_exited';
  else if (ev.type === 'records.hotlist.hit') key = 'al_hotlist';
  else return;
  alerts.unshift({ ev, key, text: [d.unit, d.incident, d.name].filter(Boolean).join(' · ') });
  if (alerts.length > 50) alerts.pop();
  renderAlerts();
}

function renderAlerts() {
  $('no-alerts').hidden = alerts.length > 0;
  $('alerts').replaceChildren(...alerts.map((a) => {
    if (a.key === 'al_hotlist') return hotAlertItem(a.ev, fmtTime, showHit);
    const li = el('li');
    li.append(el('span', 'meta', fmtTime(a.ev.ts)), el('strong', null, ` ⚠ ${t(a.key)} `), el('span', null, a.text));
    if (a.ev.data && a.ev.data.incident) li.addEventListener('click', () => selectIncident(a.ev.data.incident));
    return li;
  }));
}

// A hotlist hit's place on the map, centred, with a ring that stays until the next one.
function showHit(lat, lon) {
  if (!map) return;
  if (hitMarker) hitMarker.remove();
  hitMarker = L.circleMarker([lat, lon], { radius: 14, color: '#ff5a4f', weight: 3, fill: false,
    interactive: false }).addTo(map.map);
  map.map.setView([lat, lon], Math.max(map.map.getZoom(), 15));
}

// ------------------------------------------------------------------ intake

async function loadTypes() {
  const r = await api('GET', '/api/v1/incident-types');
  if (r.status !== 200) return;
  types.clear();
  for (const ty of r.data.items) if (ty.active) types.set(ty.code, ty);
  renderTypes();
}

function renderTypes() {
  const sel = $('in-type');
  const was = sel.value;
  sel.replaceChildren(...[...types.values()].map((ty) => {
    const o = el('option', null, `${lang() === 'ar' ? ty.name_ar : ty.name_fr} (P${ty.priority})`);
    o.value = ty.code;
    return o;
  }));
  if (was) sel.value = was;
}

function setPick(p) {
  pick = p;
  map.setPick(p ? p.lat : null, p ? p.lon : null);
  $('in-where').textContent = p ? `${p.address || t('picked')} · ${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}` : '';
}

let suggestions = [];
let sugIdx = -1;
const searchStreets = debounce(async () => {
  const q = $('in-street').value.trim();
  if (!q) { showSuggestions([]); return; }
  const r = await api('GET', `/api/v1/streets?q=${encodeURIComponent(q)}&limit=8`).catch(() => null);
  if (r && r.status === 200 && $('in-street').value.trim() === q) showSuggestions(r.data.items);
}, 120);

function streetName(s) {
  return (lang() === 'ar' ? s.name_ar || s.name : s.name_fr || s.name) || s.name;
}

function showSuggestions(items) {
  suggestions = items;
  sugIdx = items.length ? 0 : -1;
  const ul = $('in-streets');
  ul.hidden = !items.length;
  $('in-street').setAttribute('aria-expanded', String(items.length > 0));
  ul.replaceChildren(...items.map((s, i) => {
    const li = el('li', i === sugIdx ? 'current' : null);
    li.setAttribute('role', 'option');
    li.dir = 'auto';
    li.textContent = [streetName(s), lang() === 'ar' ? s.name_fr : s.name_ar].filter(Boolean).join(' · ');
    li.addEventListener('mousedown', (e) => { e.preventDefault(); chooseStreet(i); });
    return li;
  }));
}

function chooseStreet(i) {
  const s = suggestions[i];
  if (!s) return;
  $('in-street').value = streetName(s);
  setPick({ lat: s.lat, lon: s.lon, address: streetName(s) });
  map.centre(s.lat, s.lon);
  showSuggestions([]);
}

async function submitIntake() {
  const address = $('in-street').value.trim();
  if (!pick && !address) { $('in-error').textContent = t('need_place'); $('in-street').focus(); return; }
  const body = { type: $('in-type').value, location: {} };
  if (pick) { body.location.lat = pick.lat; body.location.lon = pick.lon; }
  if (address) body.location.address = address;
  if ($('in-priority').value) body.priority = Number($('in-priority').value);
  const caller = {};
  if ($('in-caller').value.trim()) caller.name = $('in-caller').value.trim();
  if ($('in-phone').value.trim()) caller.phone = $('in-phone').value.trim();
  if (Object.keys(caller).length) body.caller = caller;
  if ($('in-narrative').value.trim()) body.narrative = $('in-narrative').value.trim();
  const r = await api('POST', '/api/v1/incidents', body, { 'Idempotency-Key': crypto.randomUUID() });
  if (r.status !== 201) { $('in-error').textContent = (r.data && r.data.detail) || String(r.status); return; }
  $('in-error').textContent = '';
  for (const id of ['in-street', 'in-caller', 'in-phone', 'in-narrative']) $(id).value = '';
  $('in-priority').value = '';
  setPick(null);
  incidents.set(r.data.number, r.data);
  if (r.data.location && r.data.location.lat !== undefined) {
    map.setIncident(r.data.number, { lat: r.data.location.lat, lon: r.data.location.lon, priority: r.data.priority });
  }
  await selectIncident(r.data.number);
  $('d-recs').focus();
}

// ------------------------------------------------------------------ stream

function streamState(on) {
  streamOn = on;
  const b = $('stream-state');
  b.hidden = false;
  b.className = `badge ${on ? 'on' : 'off'}`;
  b.textContent = t(on ? 'connected' : 'reconnecting');
}

function renderEvents() {
  $('events').replaceChildren(...recent.slice(0, 8).map((ev) => {
    const li = el('li');
    li.append(el('div', 'meta', `#${ev.seq} · ${fmtTime(ev.ts)} · ${ev.actor}`), el('div', null, ev.type));
    return li;
  }));
}
const renderEventsSoon = debounce(renderEvents, 200);

function onEvent(ev) {
  if (ev.type === 'stream.hello') return;
  if (ev.type === 'avl.positions') {
    for (const p of ev.units) {
      map.setUnit(p.unit, { lat: p.lat, lon: p.lon, sentMs: Date.parse(p.time) });
    }
    return;
  }
  if (typeof ev.seq !== 'number') return;
  lastSeq = ev.seq;
  if (seen.size < 100000) seen.add(ev.seq);
  sessionStorage.setItem('amane.lastSeq', String(lastSeq));
  $('last-seq').textContent = String(lastSeq);
  recent.unshift(ev);
  if (recent.length > 100) recent.pop();
  renderEventsSoon();
  const d = ev.data || {};
  if (ev.type === 'cad.unit.status' || ev.type === 'cad.unit.assigned' || ev.type === 'cad.unit.released') {
    const u = units.get(d.unit);
    if (u) {
      if (ev.type === 'cad.unit.status') u.status = d.status;
      if (ev.type === 'cad.unit.assigned') { u.status = 'dispatched'; u.incident = d.incident; }
      if (['available', 'at_station', 'out_of_service'].includes(u.status)) u.incident = null;
      u.status_since = ev.ts;
      map.setUnit(d.unit, { status: u.status });
      renderUnitsSoon();
    }
  } else if (ev.type === 'cad.unit.added') {
    loadUnits();
  }
  const number = d.incident || d.number;
  if (ev.type.startsWith('cad.incident.') || ev.type === 'cad.unit.assigned' || ev.type === 'cad.unit.released' ||
      (ev.type === 'cad.unit.status' && number)) {
    if (number) { pendingIncidents.add(number); flushIncidents(); }
  }
  if (ev.type.startsWith('cad.alert.') || ev.type.startsWith('avl.geofence.') ||
      ev.type === 'records.hotlist.hit') addAlert(ev);
  if (ev.type === 'logbook.entry' && !$('logbook').hidden) loadLogbook();
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

// ------------------------------------------------------------------ logbook

function renderEntry(e, prepend) {
  const list = $('entries');
  if (list.querySelector(`[data-id="${e.id}"]`)) return;
  const li = el('li');
  li.dataset.id = e.id;
  const meta = el('div', 'meta', `${fmtTime(e.ts)} · ${e.author} · ${t('cat_' + e.category)}`);
  meta.dir = 'auto';
  const p = el('div', null, e.text);
  p.dir = 'auto';
  li.append(meta, p);
  prepend ? list.prepend(li) : list.append(li);
}

async function loadLogbook() {
  const r = await api('GET', '/api/v1/logbook?limit=50');
  $('entries').replaceChildren();
  if (r.status !== 200) return;
  if (!r.data.items.length) $('entries').append(el('li', 'muted', t('no_entries')));
  for (const e of r.data.items) renderEntry(e, false);
}

function setStatus(key, detail = '') {
  statusKey = key;
  $('entry-status').textContent = key ? `${t(key)}${detail ? ': ' + detail : ''}` : '';
}

// The records tab takes the intake's place and a wider column; N brings the intake back.
function showTab(which) {
  for (const tab of ['queue', 'logbook', 'records']) {
    $(tab).hidden = tab !== which;
    $(`tab-${tab}`).setAttribute('aria-selected', String(tab === which));
  }
  $('intake').hidden = which === 'records';
  $('room').classList.toggle('records-open', which === 'records');
  if (map) map.map.invalidateSize();
  if (which === 'logbook') loadLogbook();
}

// ------------------------------------------------------------------ session

async function showRoom() {
  $('login').hidden = true;
  $('room').hidden = false;
  $('logout').hidden = false;
  $('who').hidden = false;
  $('who').textContent = `${me.username} · ${t('role')}: ${me.role}`;
  if (!map) {
    map = new CadMap($('map'), {
      onPick: (lat, lon) => setPick({ lat, lon, address: $('in-street').value.trim() }),
      onSelect: (kind, id) => {
        if (kind === 'incident') { selectIncident(id); return; }
        const u = units.get(id);
        map.select('unit', id);
        if (u) unitPopup(u, map.units.get(id));
        if (u && u.incident) selectIncident(u.incident);
      },
    });
    window.amaneMap = map; // for the browser test's measurements
    renderLegend();
    map.loadLayers(api);
  }
  map.map.invalidateSize();
  await Promise.all([loadTypes(), loadUnits(), loadIncidents()]);
  connect();
}

function logoutLocal() {
  token = null;
  sessionStorage.removeItem('amane.token');
  records.clear(); // a read is its reader's: the next one to log in does not see it
  if (ws) { ws.onclose = null; ws.close(); ws = null; }
  $('login').hidden = false;
  $('room').hidden = true;
  $('logout').hidden = true;
  $('who').hidden = true;
  $('stream-state').hidden = true;
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const d = await submitLogin((path, body) => api('POST', path, body));
  if (!d) return;
  token = d.token;
  me = d.user;
  sessionStorage.setItem('amane.token', token);
  showRoom();
});

$('intake').addEventListener('submit', (e) => { e.preventDefault(); submitIntake(); });
$('intake').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); submitIntake(); }
});
$('in-street').addEventListener('input', () => { setPick(null); searchStreets(); });
$('in-street').addEventListener('keydown', (e) => {
  if ($('in-streets').hidden) return;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    sugIdx = (sugIdx + (e.key === 'ArrowDown' ? 1 : suggestions.length - 1)) % suggestions.length;
    [...$('in-streets').children].forEach((li, i) => li.classList.toggle('current', i === sugIdx));
  } else if (e.key === 'Enter' && !e.ctrlKey) {
    e.preventDefault();
    chooseStreet(sugIdx);
  } else if (e.key === 'Escape') {
    showSuggestions([]);
  }
});
$('in-street').addEventListener('blur', () => setTimeout(() => showSuggestions([]), 100));

$('d-recs').addEventListener('keydown', (e) => {
  if (!recs.length) return;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    recIdx = (recIdx + (e.key === 'ArrowDown' ? 1 : recs.length - 1)) % recs.length;
    renderRecs();
  } else if (e.key === 'Enter') {
    e.preventDefault();
    dispatch(recIdx);
  }
});
$('d-close').addEventListener('click', closeDetail);
$('tab-queue').addEventListener('click', () => showTab('queue'));
$('tab-logbook').addEventListener('click', () => showTab('logbook'));
$('tab-records').addEventListener('click', () => showTab('records'));

// Keys of the whole room, when not typing in a field.
document.addEventListener('keydown', (e) => {
  if ($('room').hidden) return;
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
  // F2 and F3 work from anywhere, fields included: a crew on the radio asks for a check.
  if ((e.key === 'F2' || e.key === 'F3') && !e.ctrlKey && !e.metaKey && !e.altKey) {
    e.preventDefault();
    showTab('records');
    records.focus(e.key === 'F3' ? 'plate' : 'person');
    return;
  }
  if (e.key === 'Escape') {
    if (typing) document.activeElement.blur(); else closeDetail();
    return;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === 'n' || e.key === 'N') {
    e.preventDefault();
    if (!$('records').hidden) showTab('queue');
    $('in-type').focus();
  }
  else if (e.key === '/') {
    e.preventDefault();
    if (!$('records').hidden) showTab('queue');
    $('in-street').focus();
  }
  else if (/^[1-5]$/.test(e.key) && recs.length) { e.preventDefault(); dispatch(Number(e.key) - 1); }
  else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    const items = [...document.querySelectorAll('#queue .q-item')];
    const i = items.indexOf(document.activeElement);
    if (i >= 0 || document.activeElement === $('queue')) {
      e.preventDefault();
      const next = items[Math.max(0, Math.min(items.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
      if (next) next.focus();
    }
  }
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
  tickClock();
  if (map) map.map.closePopup(); // its words were in the other language
  if (me) $('who').textContent = `${me.username} · ${t('role')}: ${me.role}`;
  if (!$('room').hidden) {
    renderTypes();
    renderQueue();
    renderUnits();
    renderAlerts();
    renderLegend();
    renderEvents();
    renderRecs();
    if (selected) refreshIncident(selected);
    streamState(streamOn);
    setStatus(statusKey);
    if (!$('logbook').hidden) loadLogbook();
    records.render();
  }
});

function tickClock() { $('clock').textContent = fmtTime(new Date().toISOString()); }
setInterval(() => {
  tickClock();
  if (!$('room').hidden) tickTimers();
}, 1000);
setInterval(() => { if (!$('room').hidden) renderUnits(); }, 15000);

const records = setupRecords({ api });

setLang(currentLang());
await loadTimeZone();
if (token) {
  api('GET', '/api/v1/me').then((r) => {
    if (r.status === 200) { me = r.data; showRoom(); } else logoutLocal();
  });
}
