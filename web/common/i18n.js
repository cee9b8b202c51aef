// SPDX-License-Identifier: AGPL-3.0-or-later
// i18n.js - Arabic (default, right-to-left) and French strings, the page
// direction, and dates shown in Africa/Casablanca time (from the tz
// database: the offset changes during Ramadan, never hard-code it), and
// the login form the web apps share.
export const STRINGS = {
  ar: {
    app: 'أمان — قاعة القيادة والتنسيق',
    lang: 'Français',
    login: 'تسجيل الدخول', username: 'اسم المستخدم', password: 'كلمة المرور',
    logout: 'خروج', bad_login: 'بيانات الدخول غير صحيحة', locked: 'الحساب مقفل مؤقتًا',
    logbook: 'سجل المداومة', add: 'تسجيل', text: 'النص', category: 'الصنف',
    live: 'الأحداث المباشرة', connected: 'متصل', reconnecting: 'إعادة الاتصال…',
    no_entries: 'لا توجد قيود بعد', saved: 'تم التسجيل', error: 'خطأ',
    cat_info: 'معلومة', cat_call: 'مكالمة', cat_operation: 'عملية', cat_incident: 'حادث',
    cat_shift: 'مناوبة', role: 'الدور', last_seq: 'آخر حدث',
  },
  fr: {
    app: 'amane — salle de commandement et de coordination',
    lang: 'العربية',
    login: 'Se connecter', username: "Nom d'utilisateur", password: 'Mot de passe',
    logout: 'Déconnexion', bad_login: 'Identifiants invalides', locked: 'Compte verrouillé temporairement',
    logbook: 'Main courante', add: 'Consigner', text: 'Texte', category: 'Catégorie',
    live: 'Événements en direct', connected: 'Connecté', reconnecting: 'Reconnexion…',
    no_entries: 'Aucune inscription', saved: 'Consigné', error: 'Erreur',
    cat_info: 'Information', cat_call: 'Appel', cat_operation: 'Opération', cat_incident: 'Incident',
    cat_shift: 'Service', role: 'Rôle', last_seq: 'Dernier événement',
  },
};

// Each app adds its own strings (same keys in both languages).
export function addStrings(more) {
  for (const l of Object.keys(STRINGS)) Object.assign(STRINGS[l], more[l] || {});
}

let lang = localStorage.getItem('amane.lang') || 'ar';

export function currentLang() { return lang; }

export function t(key) { return (STRINGS[lang] && STRINGS[lang][key]) || key; }

export function setLang(l) {
  lang = l === 'fr' ? 'fr' : 'ar';
  localStorage.setItem('amane.lang', lang);
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === 'ar' ? 'rtl' : 'ltr';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
}

// Africa/Casablanca's offsets from the server's tz database. Some browsers
// carry wrong data for Morocco (UTC+1, but UTC+0 during Ramadan), so when
// the server's spans are known, times are shifted by hand and shown as UTC.
let tzSpans = null;

export async function loadTimeZone() {
  try {
    const r = await fetch('/api/v1/time/zone');
    if (r.ok) {
      tzSpans = (await r.json()).spans.map((s) => ({ from: Date.parse(s.from), offset: s.offset_s }));
    }
  } catch (e) { tzSpans = null; }
}

export function fmtTime(iso) {
  const d = new Date(iso);
  const locale = lang === 'ar' ? 'ar-MA' : 'fr-MA';
  const opts = { dateStyle: 'short', timeStyle: 'medium' };
  if (tzSpans && tzSpans.length && d.getTime() >= tzSpans[0].from) {
    let offset = tzSpans[0].offset;
    for (const s of tzSpans) if (s.from <= d.getTime()) offset = s.offset;
    return new Intl.DateTimeFormat(locale, { ...opts, timeZone: 'UTC' })
      .format(new Date(d.getTime() + offset * 1000));
  }
  return new Intl.DateTimeFormat(locale, { ...opts, timeZone: 'Africa/Casablanca' }).format(d);
}

// The login form both apps share (#login, #username, #password, #login-error):
// sends it with `post(path, body)` (which may throw when the network is down)
// and returns the server's {token, user}, or null after saying why not.
export async function submitLogin(post) {
  const err = document.getElementById('login-error');
  const pw = document.getElementById('password');
  let r;
  try {
    r = await post('/api/v1/auth/login', { username: document.getElementById('username').value, password: pw.value });
  } catch (e) {
    err.textContent = t('error');
    return null;
  } finally {
    pw.value = '';
  }
  if (r.status !== 200) {
    err.textContent = t(r.status === 423 ? 'locked' : 'bad_login');
    return null;
  }
  err.textContent = '';
  return r.data;
}
