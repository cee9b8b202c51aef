// SPDX-License-Identifier: AGPL-3.0-or-later
// check.js - the patrol terminal's "Check" screen: a plate, or a person by
// CIN or name, against the hotlist and the records, answered in type big
// enough to read at arm's length: green "no hit", or red (amber for a
// missing person) with the action to take. A check is a read, logged by
// the server with the crew's reason and ref (the assignment's incident by
// default); it is never queued like the outbox's commands: without the
// network the answer is "not checked", never a green that was not earned.
// A plate or CIN check goes through /hotlist/check, which tells the room on
// a hit, with the unit's position (the server adds it). A name finds
// candidates; a candidate with an entry is a possible hit until the crew
// confirms the identity, which is then checked (and the room told) too.
import { el, ltr, plateText, plateNode } from '../common/plate.js';
import { t, addStrings, fmtTime } from '../common/i18n.js';

addStrings({
  ar: {
    ck_title: 'تحقق', ck_back: 'رجوع', ck_ref: 'المرجع', ck_reason_hint: 'اكتب السبب',
    ck_person: 'البطاقة الوطنية أو الاسم', ck_person_hint: 'BE123456',
    ck_plate_go: 'تحقق من اللوحة', ck_person_go: 'تحقق من الشخص',
    ck_no_hit: 'لا شيء', ck_no_hit_more: 'لا يوجد أي إشعار بالبحث', ck_hit: 'إشعار بالبحث',
    ck_possible: 'احتمال تطابق: تحقق من الهوية', ck_confirm: 'هو نفسه: تأكيد',
    ck_candidates: 'أشخاص مطابقون', ck_no_person: 'لا يوجد شخص بهذا الاسم في السجلات',
    ck_offline_more: 'لا توجد شبكة. أعد المحاولة أو اطلب التحقق من القاعة عبر اللاسلكي.',
    ck_retry: 'إعادة المحاولة', ck_checking: 'جارٍ التحقق…', ck_room_told: 'تم إخبار القاعة',
    ck_need_plate: 'أدخل رقم اللوحة', ck_need_person: 'أدخل رقم البطاقة أو الاسم',
    ck_bad_ref: 'المرجع: حروف لاتينية وأرقام و / _ . - فقط',
  },
  fr: {
    ck_title: 'Contrôle', ck_back: 'Retour', ck_ref: 'Référence', ck_reason_hint: 'Écrivez le motif',
    ck_person: 'CIN ou nom', ck_person_hint: 'BE123456',
    ck_plate_go: 'Contrôler la plaque', ck_person_go: 'Contrôler la personne',
    ck_no_hit: 'Rien', ck_no_hit_more: 'Aucun signalement', ck_hit: 'Signalé',
    ck_possible: "Correspondance possible : vérifiez l'identité", ck_confirm: "C'est bien lui : confirmer",
    ck_candidates: 'Personnes correspondantes', ck_no_person: 'Aucune personne de ce nom au fichier',
    ck_offline_more: 'Pas de réseau. Réessayez ou demandez le contrôle à la salle par radio.',
    ck_retry: 'Réessayer', ck_checking: 'Contrôle en cours…', ck_room_told: 'Salle prévenue',
    ck_need_plate: 'Indiquez la plaque', ck_need_person: 'Indiquez la CIN ou le nom',
    ck_bad_ref: 'Référence : lettres latines, chiffres et / _ . - seulement',
  },
});

const REF_RE = /^[A-Za-z0-9/_.-]{0,63}$/;
const CLOSE = 0.75; // a name's score from which a candidate's entry is a possible hit
const FULL_CIN = /^[A-Za-z]{1,2}[\s.-]*\d[\d\s.-]{0,10}$/;
const PROBLEM_KEY = { 'reason-required': 'err_reason_required', validation: 'err_validation',
  forbidden: 'err_forbidden', 'not-found': 'err_not_found' };

function problemKey(r) {
  const type = (r.data && typeof r.data.type === 'string') ? r.data.type : '';
  return PROBLEM_KEY[type.replace(/^urn:amane:problem:/, '')] || (r.status >= 500 ? 'err_server' : 'err_validation');
}

/*
 * Wires the screen. `request(method, path, body)` is the terminal's client
 * (throws when the network does not answer); `incident()` the assignment's
 * incident number or null; `onUnauthorized()` logs out; `onNetwork(up)`
 * says whether the last read found the network.
 */
export function setupCheck({ request, incident, onUnauthorized, onNetwork }) {
  const $ = (id) => document.getElementById(id);
  let autoRef = '';
  let shown = null; // what the result box shows, to redraw it in the other language
  let busy = false;

  function reason() {
    const v = $('ck-reason').value;
    return v === 'other' ? $('ck-reason-other').value.trim() : t(v);
  }

  // One read; {status, data}, or null when the network did not carry it.
  async function read(path, body) {
    let r = null;
    if (navigator.onLine) {
      try { r = await request('POST', path, body); } catch (e) { r = null; }
    }
    onNetwork(r !== null);
    if (r && r.status === 401) onUnauthorized();
    return r;
  }

  function why() {
    const w = { reason: reason() };
    const ref = $('ck-ref').value.trim();
    if (!REF_RE.test(ref)) { show({ kind: 'error', key: 'ck_bad_ref' }); return null; }
    if (ref) w.ref = ref;
    return w;
  }

  function place(form) {
    $(form).after($('ck-result'));
  }

  async function checkPlate() {
    if (busy) return;
    place('ck-plate');
    const plate = $('ck-plate-in').value.trim();
    if (!plate) { show({ kind: 'error', key: 'ck_need_plate' }); return; }
    const w = why();
    if (!w) return;
    await run(async () => {
      const r = await read('/api/v1/hotlist/check', { ...w, plate, source: 'mdt' });
      if (!r) return { kind: 'offline', retry: checkPlate };
      if (r.status !== 200) return { kind: 'error', key: problemKey(r), detail: r.data && r.data.detail };
      return { kind: 'verdict', what: { plate }, hits: r.data.hits, told: r.data.hit };
    });
  }

  async function checkPerson() {
    if (busy) return;
    place('ck-person');
    const q = $('ck-person-in').value.trim();
    if (!q) { show({ kind: 'error', key: 'ck_need_person' }); return; }
    const w = why();
    if (!w) return;
    await run(async () => {
      if (FULL_CIN.test(q)) {
        // The hotlist for the verdict (and the room on a hit), the file for who it is.
        const [h, s] = await Promise.all([
          read('/api/v1/hotlist/check', { ...w, cin: q, source: 'mdt' }),
          read('/api/v1/persons/search', { ...w, cin: q, limit: 3 }),
        ]);
        if (!h) return { kind: 'offline', retry: checkPerson };
        if (h.status !== 200) return { kind: 'error', key: problemKey(h), detail: h.data && h.data.detail };
        const people = s && s.status === 200 ? s.data.items : [];
        return { kind: 'verdict', what: { cin: q }, hits: h.data.hits, told: h.data.hit, people };
      }
      const s = await read('/api/v1/persons/search', { ...w, name: q, limit: 5 });
      if (!s) return { kind: 'offline', retry: checkPerson };
      if (s.status !== 200) return { kind: 'error', key: problemKey(s), detail: s.data && s.data.detail };
      return { kind: 'candidates', what: { name: q }, people: s.data.items, why: w };
    });
  }

  // A name's candidate confirmed by the crew: the hotlist check by the person's id.
  async function confirm(p, w) {
    if (busy) return;
    await run(async () => {
      const r = await read('/api/v1/hotlist/check', { ...w, person_id: p.id, source: 'mdt' });
      if (!r) return { kind: 'offline', retry: () => confirm(p, w) };
      if (r.status !== 200) return { kind: 'error', key: problemKey(r), detail: r.data && r.data.detail };
      return { kind: 'verdict', what: { person: p }, hits: r.data.hits, told: r.data.hit, people: [p] };
    });
  }

  async function run(fn) {
    busy = true;
    for (const b of document.querySelectorAll('#check .check-go')) b.disabled = true;
    show({ kind: 'busy' });
    let s;
    try { s = await fn(); } finally {
      busy = false;
      for (const b of document.querySelectorAll('#check .check-go')) b.disabled = false;
    }
    s.at = new Date();
    show(s);
    $('ck-result').scrollIntoView({ block: 'nearest' });
  }

  // What was checked: a plate as the server read it when it knows it, else as typed.
  function whatEl(what, hits = []) {
    const exact = hits.find((h) => h.plate_key && h.score === 1);
    if (what.plate) return plateNode(exact ? plateText(exact.plate_key) : what.plate);
    if (what.cin) return ltr(what.cin.toUpperCase(), 'cin');
    if (what.person) return personName(what.person);
    const n = el('bdi', null, what.name);
    n.dir = 'auto';
    return n;
  }

  function personName(p) {
    const box = el('span', 'names');
    const ar = [p.given_ar, p.family_ar].filter(Boolean).join(' ');
    const la = [p.given_lat, p.family_lat && p.family_lat.toUpperCase()].filter(Boolean).join(' ');
    if (ar) { const b = el('bdi', 'n-ar', ar); b.dir = 'rtl'; b.lang = 'ar'; box.append(b); }
    if (la) box.append(ltr(la, 'n-lat'));
    return box;
  }

  function personLine(p) {
    const li = el('li', (p.hotlist || []).length ? 'hot' : null);
    li.append(personName(p));
    const meta = el('div', 'meta');
    const parts = [];
    if (p.cin) parts.push(ltr(p.cin, 'cin'));
    if (p.birth_date) parts.push(ltr(p.birth_date));
    if (p.birth_place) { const b = el('bdi', null, p.birth_place); b.dir = 'auto'; parts.push(b); }
    if (typeof p.score === 'number' && p.score < 1) parts.push(ltr(`${Math.round(p.score * 100)}%`));
    parts.forEach((part, i) => { if (i) meta.append(el('span', null, ' · ')); meta.append(part); });
    li.append(meta);
    return li;
  }

  function hitBox(h) {
    const box = el('div', `ck-hit hot-${h.kind}`);
    box.append(el('div', 'ck-kind', `⚠ ${t('rec_kind_' + h.kind)}`));
    const act = el('div', 'ck-action', t('rec_act_' + h.action));
    box.append(el('div', 'ck-action-label', t('rec_action')), act);
    if (h.instructions) { const i = el('p', 'ck-instr', h.instructions); i.dir = 'auto'; box.append(i); }
    // A misreading's hit says what it matched: the crew compares with the plate in front of them.
    if (typeof h.score === 'number' && h.score < 1) {
      const a = el('p', 'ck-approx', `${t('rec_approx')} ${Math.round(h.score * 100)}% · `);
      a.append(h.plate_key ? plateNode(plateText(h.plate_key, h.plate)) : ltr(h.cin || h.vin || ''));
      box.append(a);
    }
    const facts = el('dl', 'ck-facts');
    const fact = (label, value) => {
      const dd = el('dd');
      if (value instanceof Node) dd.append(value);
      else { const b = el('bdi', null, value); b.dir = 'auto'; dd.append(b); }
      facts.append(el('dt', null, t(label)), dd);
    };
    fact('rec_service', h.service);
    fact('rec_valid_until', h.valid_until ? ltr(h.valid_until) : t('rec_until_cancelled'));
    if (h.reason) fact('rec_motive', h.reason);
    box.append(facts);
    return box;
  }

  function show(s) {
    shown = s;
    const box = $('ck-result');
    box.className = 'ck-result';
    box.replaceChildren();
    if (!s) return;
    if (s.kind === 'busy') { box.append(el('p', 'muted', t('ck_checking'))); return; }
    if (s.kind === 'error') {
      box.classList.add('ck-error');
      box.append(el('p', 'ck-error-text', t(s.key)));
      if (s.detail) { const d = el('p', 'muted small', s.detail); d.dir = 'ltr'; box.append(d); }
      return;
    }
    if (s.kind === 'offline') {
      box.classList.add('ck-offline');
      box.append(el('div', 'ck-verdict', `◌ ${t('err_offline')}`), el('p', null, t('ck_offline_more')));
      const b = el('button', 'check-go', t('ck_retry'));
      b.type = 'button';
      b.addEventListener('click', () => s.retry());
      box.append(b);
      return;
    }
    const at = el('p', 'muted small ck-at');
    at.textContent = fmtTime(s.at.toISOString());
    if (s.kind === 'verdict') {
      const hits = [...s.hits].sort((a, b) => (a.kind === 'missing') - (b.kind === 'missing'));
      const head = el('div', 'ck-what');
      head.append(whatEl(s.what, hits));
      if (!hits.length) {
        box.classList.add('ck-clear');
        box.append(el('div', 'ck-verdict', `✓ ${t('ck_no_hit')}`), el('p', 'ck-sub', t('ck_no_hit_more')), head);
      } else {
        box.classList.add(hits.some((h) => h.kind !== 'missing') ? 'ck-red' : 'ck-amber');
        box.append(el('div', 'ck-verdict', `⛔ ${t('ck_hit')}`), head, ...hits.map(hitBox));
        if (s.told) box.append(el('p', 'ck-told', `✓ ${t('ck_room_told')}`));
      }
      if ((s.people || []).length && !s.what.person) {
        const ul = el('ul', 'ck-people');
        ul.append(...s.people.map(personLine));
        box.append(ul);
      }
      box.append(at);
      return;
    }
    // Candidates of a name: a hit is only possible until the crew confirms who it is; a
    // distant namesake with an entry is listed with it, without turning the answer red.
    const possible = s.people.filter((p) => (p.hotlist || []).length && (typeof p.score !== 'number' || p.score >= CLOSE));
    const head = el('div', 'ck-what');
    head.append(whatEl(s.what));
    if (!s.people.length) {
      box.classList.add('ck-clear');
      box.append(el('div', 'ck-verdict', `✓ ${t('ck_no_hit')}`), el('p', 'ck-sub', t('ck_no_person')), head, at);
      return;
    }
    if (!possible.length) {
      box.classList.add('ck-clear');
      box.append(el('div', 'ck-verdict', `✓ ${t('ck_no_hit')}`), el('p', 'ck-sub', t('ck_no_hit_more')), head);
    } else {
      box.classList.add(possible.some((p) => p.hotlist.some((h) => h.kind !== 'missing')) ? 'ck-red' : 'ck-amber');
      box.append(el('div', 'ck-verdict ck-possible', `⚠ ${t('ck_possible')}`), head);
    }
    box.append(el('h3', 'ck-sub', t('ck_candidates')));
    const ul = el('ul', 'ck-people');
    for (const p of s.people) {
      const li = personLine(p);
      if ((p.hotlist || []).length) {
        for (const h of p.hotlist) li.append(el('div', `ck-badge hot-${h.kind}`, `⚠ ${t('rec_kind_' + h.kind)} · ${t('rec_act_' + h.action)}`));
        const b = el('button', 'check-go ck-confirm', t('ck_confirm'));
        b.type = 'button';
        b.addEventListener('click', () => confirm(p, s.why));
        li.append(b);
      }
      ul.append(li);
    }
    box.append(ul, at);
  }

  function syncReason() {
    $('ck-reason-other').hidden = $('ck-reason').value !== 'other';
  }

  $('ck-reason').addEventListener('change', () => {
    syncReason();
    if (!$('ck-reason-other').hidden) $('ck-reason-other').focus();
  });
  $('ck-ref').addEventListener('input', () => { autoRef = ''; });
  $('ck-plate').addEventListener('submit', (e) => { e.preventDefault(); checkPlate(); });
  $('ck-person').addEventListener('submit', (e) => { e.preventDefault(); checkPerson(); });

  return {
    // Opens the screen: the ref is the assignment's incident, unless the crew typed another.
    open() {
      const ref = $('ck-ref');
      const number = incident() || '';
      if (ref.value === '' || ref.value === autoRef) { ref.value = number; autoRef = number; }
      syncReason();
      $('ck-plate-in').focus();
    },
    render() { if (shown && shown.kind !== 'busy') show(shown); },
    clear() { shown = null; show(null); $('ck-plate-in').value = ''; $('ck-person-in').value = ''; },
  };
}
