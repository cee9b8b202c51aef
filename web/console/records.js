// SPDX-License-Identifier: AGPL-3.0-or-later
// records.js - the console's "Records" tab: the person check (a name in
// Arabic or Latin script, a CIN whole or partial, a date and a place of
// birth) and the plate check (a plate as written, Moroccan or foreign), the
// results with their score, a hotlist banner nobody can miss on a hit, and
// the record behind a result. Every read of a record is logged by the
// server with who, why (the reason, required) and for what (the ref,
// prefilled with the selected incident's number); the last reason typed is
// kept for the session. Also the alert line of a hotlist hit
// (records.hotlist.hit) for the room's alert list.
import { el, ltr, plateText, plateNode } from '../common/plate.js';
import { t, addStrings } from '../common/i18n.js';

addStrings({
  ar: {
    records: 'السجلات', rc_person_check: 'تحقق من شخص', rc_plate_check: 'تحقق من لوحة',
    rc_search: 'بحث', rc_name_hint: 'بالعربية أو بالحروف اللاتينية', rc_cin_hint: 'كاملة أو بدايتها',
    rc_country_hint: 'لوحة أجنبية: FR، ES…', rc_need_person: 'أدخل اسمًا أو رقم البطاقة الوطنية',
    rc_need_plate: 'أدخل رقم اللوحة', rc_bad_ref: 'المرجع: حروف لاتينية وأرقام و / _ . - فقط (63 على الأكثر)',
    rc_results: 'النتائج', rc_none: 'لا توجد نتيجة', rc_no_hit: 'لا يوجد أي إشعار بالبحث',
    rc_hits: 'إشعار بالبحث', rc_back: 'رجوع إلى النتائج', rc_busy: 'جارٍ البحث…',
    rc_aliases: 'أسماء أخرى', rc_nationality: 'الجنسية', rc_sex: 'الجنس', rc_sex_M: 'ذكر', rc_sex_F: 'أنثى',
    rc_addresses: 'العناوين', rc_phones: 'الهواتف', rc_vehicles: 'المركبات', rc_owner: 'المالك',
    rc_no_owner: 'المالك غير معروف', rc_vin: 'رقم الهيكل', rc_vehicle: 'المركبة', rc_year: 'السنة',
    rc_person: 'الشخص', rc_open: 'فتح السجل',
    al_hotlist: 'إشعار بالبحث', rc_asker: 'طلب من', rc_nearest: 'أقرب الوحدات المتاحة',
    rc_no_nearest: 'لا توجد وحدة متاحة قريبة', rc_m: 'م',
  },
  fr: {
    records: 'Fichiers', rc_person_check: 'Contrôle de personne', rc_plate_check: 'Contrôle de plaque',
    rc_search: 'Rechercher', rc_name_hint: 'en arabe ou en lettres latines', rc_cin_hint: 'ou son début',
    rc_country_hint: 'plaque étrangère : FR, ES…', rc_need_person: 'Indiquez un nom ou un numéro de CIN',
    rc_need_plate: 'Indiquez la plaque', rc_bad_ref: 'Référence : lettres latines, chiffres et / _ . - seulement (63 au plus)',
    rc_results: 'Résultats', rc_none: 'Aucun résultat', rc_no_hit: 'Aucun signalement',
    rc_hits: 'Signalement', rc_back: 'Retour aux résultats', rc_busy: 'Recherche…',
    rc_aliases: 'Autres noms', rc_nationality: 'Nationalité', rc_sex: 'Sexe', rc_sex_M: 'Masculin', rc_sex_F: 'Féminin',
    rc_addresses: 'Adresses', rc_phones: 'Téléphones', rc_vehicles: 'Véhicules', rc_owner: 'Propriétaire',
    rc_no_owner: 'Propriétaire inconnu', rc_vin: 'VIN', rc_vehicle: 'Véhicule', rc_year: 'Année',
    rc_person: 'Personne', rc_open: 'Ouvrir la fiche',
    al_hotlist: 'Signalement au fichier', rc_asker: 'Demandé par', rc_nearest: 'Unités disponibles les plus proches',
    rc_no_nearest: 'Aucune unité disponible à proximité', rc_m: 'm',
  },
});

// ------------------------------------------------------------------ formats

function plateEl(key, written) { return plateNode(plateText(key, written)); }

// Names in both scripts: the Arabic one right to left even in the French page.
function nameAr(p) { return [p.given_ar, p.family_ar].filter(Boolean).join(' '); }
function nameLat(p) { return [p.given_lat, p.family_lat && p.family_lat.toUpperCase()].filter(Boolean).join(' '); }
function namesEl(p, cls = 'names') {
  const box = el('span', cls);
  if (nameAr(p)) {
    const ar = el('bdi', 'n-ar', nameAr(p));
    ar.dir = 'rtl';
    ar.lang = 'ar';
    box.append(ar);
  }
  if (nameLat(p)) {
    const la = el('bdi', 'n-lat', nameLat(p));
    la.dir = 'ltr';
    box.append(la);
  }
  return box;
}

function pct(score) { return `${Math.round(Math.max(0, Math.min(1, score)) * 100)}%`; }

function scoreEl(score) {
  const s = el('span', 'score');
  s.title = t('rec_score');
  const bar = el('span', 'bar');
  const fill = el('i');
  fill.style.inlineSize = pct(score);
  bar.append(fill);
  s.append(bar, ltr(pct(score)));
  return s;
}

export function distanceText(m) {
  return m < 1000 ? `${Math.round(m)} ${t('rc_m')}` : `${(m / 1000).toFixed(1)} ${t('km')}`;
}

// A line of facts, "label: value · label: value", each value isolated.
function facts(pairs) {
  const p = el('div', 'facts');
  for (const [label, value] of pairs) {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length)) continue;
    const span = el('span', 'fact');
    span.append(el('span', 'muted', `${t(label)}: `));
    if (value instanceof Node) span.append(value);
    else { const v = el('bdi', null, String(value)); v.dir = 'auto'; span.append(v); }
    p.append(span);
  }
  return p;
}

// The banner of one hotlist entry: what, what to do, who says so, until when.
export function hitBanner(h) {
  const box = el('div', `hot-banner hot-${h.kind}`);
  box.dataset.kind = h.kind;
  const top = el('div', 'hot-top');
  top.append(el('strong', 'hot-kind', `⚠ ${t('rec_kind_' + h.kind)}`));
  if (h.plate_key || h.plate) top.append(plateEl(h.plate_key, h.plate));
  if (h.cin) top.append(ltr(h.cin, 'cin'));
  if (h.vin) top.append(ltr(h.vin, 'vin'));
  box.append(top);
  const act = el('div', 'hot-action');
  act.append(el('span', null, `${t('rec_action')}: `), el('strong', null, t('rec_act_' + h.action)));
  box.append(act);
  if (h.instructions) {
    const i = el('div', 'hot-instr', h.instructions);
    i.dir = 'auto';
    box.append(i);
  }
  box.append(facts([
    ['rec_service', h.service],
    ['rec_valid_until', h.valid_until ? ltr(h.valid_until) : t('rec_until_cancelled')],
    ['rec_motive', h.reason],
  ]));
  if (typeof h.score === 'number' && h.score < 1) {
    const a = el('div', 'hot-approx');
    a.append(el('span', null, `${t('rec_approx')} ${pct(h.score)}`));
    // What it matched, when that says more than a record's number.
    if (h.matched && !/^\d+$/.test(h.matched)) {
      a.append(el('span', null, ` · ${t('rec_matched')}: `), h.plate_key ? plateEl(h.matched) : ltr(h.matched));
    }
    box.append(a);
  }
  return box;
}

// The alert list's line for a hotlist hit; `onCentre(lat, lon)` on click if the hit has a place.
export function hotAlertItem(ev, fmtTime, onCentre) {
  const d = ev.data || {};
  const hits = d.hits || [];
  const li = el('li', 'hot-alert');
  li.dataset.seq = ev.seq;
  li.classList.add(hits.some((h) => h.kind !== 'missing') ? 'hot-red' : 'hot-amber');
  li.append(el('span', 'meta', fmtTime(ev.ts)));
  const head = el('div', 'row');
  head.append(el('strong', null, `⚠ ${t('al_hotlist')}`));
  for (const h of hits.slice(0, 3)) {
    const one = el('span', 'hot-what');
    one.append(el('span', null, `${t('rec_kind_' + h.kind)} `));
    if (h.plate_key || h.plate) one.append(plateEl(h.plate_key, h.plate));
    else if (h.cin) one.append(ltr(h.cin, 'cin'));
    else if (h.vin) one.append(ltr(h.vin, 'vin'));
    one.append(el('span', 'muted', ` · ${t('rec_act_' + h.action)}`));
    head.append(one);
  }
  li.append(head);
  const who = el('div', 'small');
  who.append(el('span', 'muted', `${t('rc_asker')}: `), ltr([d.asker, d.unit].filter(Boolean).join(' · '), 'cs'));
  if (d.source) who.append(el('span', 'muted', ' · '), ltr(d.source));
  li.append(who);
  const near = el('div', 'small');
  if ((d.nearest || []).length) {
    near.append(el('span', 'muted', `${t('rc_nearest')}: `));
    d.nearest.forEach((n, i) => {
      if (i) near.append(el('span', null, ' · '));
      near.append(ltr(n.unit, 'cs'), el('span', null, ` (${distanceText(n.distance_m)})`));
    });
  } else if (d.lat !== undefined) {
    near.append(el('span', 'muted', t('rc_no_nearest')));
  }
  li.append(near);
  if (typeof d.lat === 'number' && typeof d.lon === 'number') {
    li.tabIndex = 0;
    li.addEventListener('click', () => onCentre(d.lat, d.lon, d));
    li.addEventListener('keydown', (e) => { if (e.key === 'Enter') onCentre(d.lat, d.lon, d); });
  }
  return li;
}

// ------------------------------------------------------------------ the tab

const REF_RE = /^[A-Za-z0-9/_.-]{0,63}$/;
const CLOSE = 0.75; // the score from which a result's hotlist entry is a banner
const REASON_KEY = 'amane.records.reason';
const PROBLEM_KEY = { 'reason-required': 'err_reason_required', validation: 'err_validation',
  forbidden: 'err_forbidden', 'not-found': 'err_not_found' };

// The error of a failed answer (or of no answer): [our words' key, the server's own words].
function problem(r) {
  if (!r) return ['err_offline', ''];
  const type = (r.data && typeof r.data.type === 'string') ? r.data.type : '';
  const slug = type.replace(/^urn:amane:problem:/, '');
  return [PROBLEM_KEY[slug] || (r.status >= 500 ? 'err_server' : 'err_validation'), (r.data && r.data.detail) || ''];
}

// A CIN as the hotlist knows it (whole): one or two letters, then digits.
const FULL_CIN = /^[A-Za-z]{1,2}[\s.-]*\d[\d\s.-]{0,10}$/;

/*
 * Wires the tab to the page. `api(method, path, body)` is the console's
 * client ({status, data}; may throw when the network is down).
 */
export function setupRecords({ api }) {
  const $ = (id) => document.getElementById(id);
  let autoRef = ''; // the ref we filled in (an incident's number), replaced when another is selected
  let result = null; // {kind: 'person'|'vehicle', items, hits, at}
  let record = null; // {kind, data} of an opened record, shown instead of the list
  let error = null; // [key, detail]
  let busy = false;
  let query = null; // {reason, ref} of the results shown: opening one reuses them

  $('rec-reason').value = sessionStorage.getItem(REASON_KEY) || '';

  function reasons() {
    $('rec-reasons').replaceChildren(...['rsn_traffic', 'rsn_identity', 'rsn_intervention'].map((k) => {
      const o = el('option');
      o.value = t(k);
      return o;
    }));
  }

  async function call(method, path, body) {
    try { return await api(method, path, body); } catch (e) { return null; }
  }

  function why() {
    const reason = $('rec-reason').value.trim();
    const ref = $('rec-ref').value.trim();
    if (!REF_RE.test(ref)) { setError(['rc_bad_ref', '']); $('rec-ref').focus(); return null; }
    sessionStorage.setItem(REASON_KEY, reason);
    const w = { reason };
    if (ref) w.ref = ref;
    return w;
  }

  function setError(e) {
    error = e;
    $('rec-error').textContent = e ? t(e[0]) : '';
    $('rec-error-detail').textContent = e ? e[1] : '';
    if (e && e[0] === 'err_reason_required') $('rec-reason').setAttribute('aria-invalid', 'true');
    else $('rec-reason').removeAttribute('aria-invalid');
  }

  function setBusy(on) {
    busy = on;
    for (const b of document.querySelectorAll('#records button[type=submit]')) b.disabled = on;
    $('rec-status').textContent = on ? t('rc_busy') : '';
  }

  // A result's own entries are as sure as the result is: a misread plate's stolen entry is
  // too. A distant namesake's entry is a badge on its line, not a banner.
  const ownHits = (items) => items.flatMap((it) => (it.hotlist || []).map((h) =>
    ({ ...h, score: (typeof h.score === 'number' ? h.score : 1) * (typeof it.score === 'number' ? it.score : 1) })))
    .filter((h) => h.score >= CLOSE);

  // Hits from the hotlist check and from the results' own entries, each entry once, best score kept.
  function mergeHits(...lists) {
    const by = new Map();
    for (const h of lists.flat()) {
      const was = by.get(h.id);
      if (!was || (h.score || 0) > (was.score || 0)) by.set(h.id, h);
    }
    return [...by.values()].sort((a, b) => (a.kind === 'missing') - (b.kind === 'missing') || (b.score || 0) - (a.score || 0));
  }

  async function personCheck() {
    if (busy) return;
    const name = $('rp-name').value.trim(), cin = $('rp-cin').value.trim();
    const born = $('rp-born').value.trim(), place = $('rp-place').value.trim();
    if (!name && !cin) { setError(['rc_need_person', '']); $('rp-name').focus(); return; }
    const w = why();
    if (!w) return;
    const body = { ...w, limit: 20 };
    if (name) body.name = name;
    if (cin) body.cin = cin;
    if (born) body.birth_date = born;
    if (place) body.birth_place = place;
    setBusy(true);
    const calls = [call('POST', '/api/v1/persons/search', body)];
    // A whole CIN is also checked against the hotlist itself: an entry may name a CIN the
    // persons file does not hold, and a hit alerts the room.
    if (cin && FULL_CIN.test(cin)) calls.push(call('POST', '/api/v1/hotlist/check', { ...w, cin, source: 'console' }));
    const [s, h] = await Promise.all(calls);
    setBusy(false);
    if (!s || s.status !== 200) { setError(problem(s)); return; }
    setError(null);
    const items = s.data.items;
    query = w;
    record = null;
    result = { kind: 'person', items, hits: mergeHits(h && h.status === 200 ? h.data.hits : [], ownHits(items)), at: new Date() };
    render();
    focusFirst();
  }

  async function plateCheck() {
    if (busy) return;
    const plate = $('rv-plate').value.trim(), country = $('rv-country').value.trim().toUpperCase();
    if (!plate) { setError(['rc_need_plate', '']); $('rv-plate').focus(); return; }
    const w = why();
    if (!w) return;
    const q = { plate };
    if (country && country !== 'MA') q.country = country;
    setBusy(true);
    // The vehicles file for what the car is, the hotlist itself for a stolen plate the
    // file may not know; a hit alerts the room.
    const [s, h] = await Promise.all([
      call('POST', '/api/v1/vehicles/search', { ...w, ...q, limit: 20 }),
      call('POST', '/api/v1/hotlist/check', { ...w, ...q, source: 'console' }),
    ]);
    setBusy(false);
    if (!s || s.status !== 200) { setError(problem(s)); return; }
    setError(null);
    query = w;
    record = null;
    const items = s.data.items;
    result = { kind: 'vehicle', items, hits: mergeHits(h && h.status === 200 ? h.data.hits : [], ownHits(items)), at: new Date() };
    render();
    focusFirst();
  }

  async function open(kind, id) {
    if (busy || !query) return;
    const qs = new URLSearchParams({ reason: query.reason });
    if (query.ref) qs.set('ref', query.ref);
    setBusy(true);
    const r = await call('GET', `/api/v1/${kind === 'person' ? 'persons' : 'vehicles'}/${id}?${qs}`);
    setBusy(false);
    if (!r || r.status !== 200) { setError(problem(r)); return; }
    setError(null);
    record = { kind, data: r.data };
    render();
    const back = $('rec-out').querySelector('button.back');
    if (back) back.focus();
  }

  function focusFirst() {
    const b = $('rec-out').querySelector('button.rec-item');
    if (b) b.focus();
  }

  function personItem(p) {
    const b = el('button', `rec-item${(p.hotlist || []).length ? ' hot' : ''}`);
    b.type = 'button';
    b.dataset.id = p.id;
    const top = el('div', 'row');
    if (typeof p.score === 'number') top.append(scoreEl(p.score));
    top.append(namesEl(p));
    for (const h of p.hotlist || []) top.append(el('span', `hot-badge hot-${h.kind}`, `⚠ ${t('rec_kind_' + h.kind)}`));
    const meta = facts([
      ['rec_cin', p.cin ? ltr(p.cin, 'cin') : ''],
      ['rec_birth_date', p.birth_date ? ltr(p.birth_date) : ''],
      ['rec_birth_place', p.birth_place],
      ['rec_father', [p.father_ar, p.father_lat].filter(Boolean).join(' · ')],
    ]);
    meta.classList.add('meta');
    b.append(top, meta);
    b.addEventListener('click', () => open('person', p.id));
    return b;
  }

  function vehicleItem(v) {
    const b = el('button', `rec-item${(v.hotlist || []).length ? ' hot' : ''}`);
    b.type = 'button';
    b.dataset.id = v.id;
    const top = el('div', 'row');
    if (typeof v.score === 'number') top.append(scoreEl(v.score));
    top.append(plateEl(v.plate_key, v.plate));
    const what = el('span', null, [v.make, v.model, v.colour, v.year || ''].filter(Boolean).join(' · '));
    what.dir = 'auto';
    top.append(what);
    for (const h of v.hotlist || []) top.append(el('span', `hot-badge hot-${h.kind}`, `⚠ ${t('rec_kind_' + h.kind)}`));
    const meta = facts([['rc_vin', v.vin ? ltr(v.vin) : ''], ['rc_owner', v.owner_cin ? ltr(v.owner_cin, 'cin') : '']]);
    meta.classList.add('meta');
    b.append(top, meta);
    b.addEventListener('click', () => open('vehicle', v.id));
    return b;
  }

  function personRecord(p) {
    const box = el('div', 'record');
    const h = el('h3', 'rec-title');
    h.append(namesEl(p, 'names big'));
    box.append(h);
    box.append(facts([
      ['rec_cin', p.cin ? ltr(p.cin, 'cin') : ''],
      ['rec_father', [p.father_ar, p.father_lat].filter(Boolean).join(' · ')],
      ['rec_birth_date', p.birth_date ? ltr(p.birth_date) : ''],
      ['rec_birth_place', p.birth_place],
      ['rc_nationality', p.nationality ? ltr(p.nationality) : ''],
      ['rc_sex', p.sex ? t('rc_sex_' + p.sex) : ''],
      ['rc_aliases', (p.aliases || []).join(' · ')],
    ]));
    if ((p.addresses || []).length) {
      box.append(el('h4', null, t('rc_addresses')));
      const ul = el('ul', 'plain');
      for (const a of p.addresses) { const li = el('li', null, a); li.dir = 'auto'; ul.append(li); }
      box.append(ul);
    }
    if ((p.phones || []).length) {
      box.append(el('h4', null, t('rc_phones')));
      const ul = el('ul', 'plain');
      for (const ph of p.phones) { const li = el('li'); li.append(ltr(ph)); ul.append(li); }
      box.append(ul);
    }
    if ((p.vehicles || []).length) {
      box.append(el('h4', null, t('rc_vehicles')));
      const ol = el('ol', 'rec-results');
      for (const v of p.vehicles) { const li = el('li'); li.append(vehicleItem(v)); ol.append(li); }
      box.append(ol);
    }
    return box;
  }

  function vehicleRecord(v) {
    const box = el('div', 'record');
    const h = el('h3', 'rec-title');
    h.append(plateEl(v.plate_key, v.plate));
    box.append(h);
    box.append(facts([
      ['rc_vehicle', [v.make, v.model, v.colour].filter(Boolean).join(' · ')],
      ['rc_year', v.year ? ltr(String(v.year)) : ''],
      ['rc_vin', v.vin ? ltr(v.vin) : ''],
      ['rec_country', v.country ? ltr(v.country) : ''],
    ]));
    box.append(el('h4', null, t('rc_owner')));
    if (v.owner) {
      const ol = el('ol', 'rec-results');
      const li = el('li');
      li.append(personItem(v.owner));
      ol.append(li);
      box.append(ol);
    } else {
      box.append(el('p', 'muted', v.owner_cin ? `${t('rec_cin')} ${v.owner_cin}` : t('rc_no_owner')));
    }
    return box;
  }

  function render() {
    reasons();
    $('rv-country').title = t('rc_country_hint');
    setError(error);
    const hot = $('rec-hot'), out = $('rec-out');
    if (record) {
      const hits = mergeHits(record.data.hotlist || []);
      hot.replaceChildren(...hits.map(hitBanner));
      const back = el('button', 'quiet back', t('rc_back'));
      back.type = 'button';
      back.addEventListener('click', () => { record = null; render(); focusFirst(); });
      out.replaceChildren(back, record.kind === 'person' ? personRecord(record.data) : vehicleRecord(record.data));
      return;
    }
    if (!result) { hot.replaceChildren(); out.replaceChildren(); return; }
    hot.replaceChildren(...result.hits.map(hitBanner));
    const head = el('p', 'rec-head');
    if (!result.hits.length) head.append(el('span', 'no-hit', `✓ ${t('rc_no_hit')}`));
    head.append(el('span', 'muted small', `${t('rc_results')}: ${result.items.length}`));
    const ol = el('ol', 'rec-results');
    ol.setAttribute('aria-label', t('rc_results'));
    for (const it of result.items) {
      const li = el('li');
      li.append(result.kind === 'person' ? personItem(it) : vehicleItem(it));
      ol.append(li);
    }
    out.replaceChildren(head, result.items.length ? ol : el('p', 'muted', t('rc_none')));
  }

  $('rec-person').addEventListener('submit', (e) => { e.preventDefault(); personCheck(); });
  $('rec-plate').addEventListener('submit', (e) => { e.preventDefault(); plateCheck(); });
  $('rec-ref').addEventListener('input', () => { autoRef = ''; });
  // Up and down walk the results; Enter opens one (it is a button).
  $('rec-out').addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const items = [...$('rec-out').querySelectorAll('button.rec-item')];
    const i = items.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    const next = items[Math.max(0, Math.min(items.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
    next.focus();
  });

  reasons();
  return {
    render,
    // The selected incident's number as the reads' ref, unless the dispatcher typed another.
    incidentSelected(number) {
      const ref = $('rec-ref');
      if (ref.value === '' || ref.value === autoRef) {
        ref.value = number || '';
        autoRef = number || '';
      }
    },
    // At logout: nothing of one dispatcher's reads stays for the next one.
    clear() {
      result = null;
      record = null;
      error = null;
      query = null;
      autoRef = '';
      sessionStorage.removeItem(REASON_KEY);
      for (const id of ['rec-reason', 'rec-ref', 'rp-name', 'rp-cin', 'rp-born', 'rp-place', 'rv-plate', 'rv-country']) {
        $(id).value = '';
      }
      render();
    },
    focus(which) {
      const input = which === 'plate' ? $('rv-plate') : $('rp-name');
      input.focus();
      input.select();
    },
  };
}
