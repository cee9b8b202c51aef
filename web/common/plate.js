// SPDX-License-Identifier: AGPL-3.0-or-later
// plate.js - DOM helpers the records screens of the console and the patrol
// terminal share: elements, left-to-right islands in a right-to-left page,
// and plates shown as they read.

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

// Left-to-right islands (plates, CIN, dates, numbers) that a right-to-left page must not reverse.
export function ltr(text, cls) {
  const b = el('bdi', cls, text);
  b.dir = 'ltr';
  return b;
}

// A plate's key (the server's normal form, src/records/plate.c) back to how
// the plate reads: a Moroccan one as "12345 | أ | 6", the series letter in
// Arabic script.
const PLATE_LETTERS = { A: 'أ', B: 'ب', TT: 'ت', TH: 'ث', J: 'ج', HH: 'ح', KH: 'خ', D: 'د', DH: 'ذ',
  R: 'ر', Z: 'ز', S: 'س', SH: 'ش', SS: 'ص', DD: 'ض', T: 'ط', ZZ: 'ظ', AA: 'ع', GH: 'غ', F: 'ف',
  Q: 'ق', K: 'ك', L: 'ل', M: 'م', N: 'ن', H: 'ه', W: 'و', Y: 'ي', G: 'ڭ', V: 'ڤ' };

export function plateText(key, written) {
  let m;
  if ((m = /^(\d{1,5})-([A-Z]{1,2})-(\d{1,2})$/.exec(key || '')) && PLATE_LETTERS[m[2]]) {
    return `${m[1]} | ${PLATE_LETTERS[m[2]]} | ${m[3]}`;
  }
  if ((m = /^WW-(\d+)$/.exec(key || ''))) return `WW ${m[1]}`;
  if ((m = /^(CD|CMD|CC)-(\d+)-(\d+)$/.exec(key || ''))) return `${m[1]} ${m[2]}-${m[3]}`;
  if ((m = /^F:([A-Z]{2}):(.+)$/.exec(key || ''))) return `${m[2]} (${m[1]})`;
  return written || key || '';
}

// A plate shown left to right, as it reads, in either page. Inside a
// left-to-right isolate an Arabic letter still turns the number after it
// into an "Arabic number" and the two read backwards ("12345 | 6 | أ"), so
// each run of Arabic letters is an isolate of its own.
export function plateNode(text) {
  const b = el('bdi', 'plate');
  b.dir = 'ltr';
  for (const part of text.split(/([\u0600-\u06FF\u0750-\u077F]+)/)) {
    if (!part) continue;
    if (/[\u0600-\u06FF\u0750-\u077F]/.test(part)) {
      const ar = el('bdi', 'p-ar', part);
      ar.dir = 'rtl';
      b.append(ar);
    } else {
      b.append(document.createTextNode(part));
    }
  }
  return b;
}
