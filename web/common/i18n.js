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
    // Records (persons, vehicles, hotlist): the console's and the patrol terminal's checks.
    rec_kind_wanted: 'مبحوث عنه', rec_kind_stolen: 'مسروق', rec_kind_missing: 'شخص مختفٍ',
    rec_act_arrest: 'إلقاء القبض', rec_act_stop_check: 'التوقيف والتحقق',
    rec_act_report: 'الإبلاغ دون تدخل', rec_act_seize: 'الحجز', rec_act_protect: 'الحماية والمرافقة',
    rec_action: 'الإجراء الواجب', rec_instructions: 'التعليمات', rec_service: 'الجهة المصدرة',
    rec_valid_until: 'صالح إلى غاية', rec_until_cancelled: 'إلى حين الإلغاء', rec_motive: 'السبب',
    rec_approx: 'تطابق تقريبي', rec_matched: 'المطابقة',
    rec_reason: 'سبب الاطلاع', rec_ref: 'المرجع (رقم الحادث أو الملف)',
    rsn_traffic: 'مراقبة طرقية', rsn_identity: 'تحقق من الهوية', rsn_intervention: 'تدخل',
    rsn_other: 'سبب آخر…',
    rec_plate: 'لوحة الترقيم', rec_country: 'البلد', rec_cin: 'البطاقة الوطنية', rec_name: 'الاسم',
    rec_birth_date: 'تاريخ الازدياد', rec_birth_place: 'مكان الازدياد', rec_father: 'الأب',
    rec_score: 'درجة التطابق',
    err_reason_required: 'سبب الاطلاع إلزامي: كل اطلاع على السجلات يُقيَّد باسمك وسببه',
    err_validation: 'طلب غير صالح', err_forbidden: 'غير مسموح لدورك', err_not_found: 'غير موجود',
    err_offline: 'غير متصل: لم يتم التحقق', err_server: 'خطأ في الخادم: لم يتم التحقق',
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
    // Records (persons, vehicles, hotlist): the console's and the patrol terminal's checks.
    rec_kind_wanted: 'Recherché', rec_kind_stolen: 'Volé', rec_kind_missing: 'Personne disparue',
    rec_act_arrest: 'Interpeller', rec_act_stop_check: 'Arrêter et contrôler',
    rec_act_report: 'Signaler sans intervenir', rec_act_seize: 'Saisir', rec_act_protect: 'Protéger et accompagner',
    rec_action: 'Conduite à tenir', rec_instructions: 'Consignes', rec_service: 'Service émetteur',
    rec_valid_until: "Valable jusqu'au", rec_until_cancelled: "jusqu'à annulation", rec_motive: 'Motif',
    rec_approx: 'correspondance approchée', rec_matched: 'Correspondance',
    rec_reason: 'Motif de la consultation', rec_ref: 'Référence (incident, dossier)',
    rsn_traffic: 'contrôle routier', rsn_identity: "contrôle d'identité", rsn_intervention: 'intervention',
    rsn_other: 'autre motif…',
    rec_plate: 'Plaque', rec_country: 'Pays', rec_cin: 'CIN', rec_name: 'Nom',
    rec_birth_date: 'Né(e) le', rec_birth_place: 'Né(e) à', rec_father: 'Père',
    rec_score: 'Correspondance',
    err_reason_required: 'Le motif de la consultation est obligatoire : chaque consultation est enregistrée avec votre nom et son motif',
    err_validation: 'Demande invalide', err_forbidden: 'Non autorisé pour votre rôle', err_not_found: 'Introuvable',
    err_offline: 'Hors ligne : vérification non faite', err_server: 'Erreur du serveur : vérification non faite',
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
