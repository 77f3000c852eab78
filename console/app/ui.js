// Small DOM helpers shared by the pages.

// h('button', {class: 'x', onclick: fn}, 'text', child...): an element.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (typeof v !== 'string' && k in el) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

let idCounter = 0;
export const uid = (prefix = 'f') => `${prefix}-${++idCounter}`;

// A labelled control: <div class="field"><label for=id>text</label>control hint error</div>.
export function field(label, control, { hint, error } = {}) {
  if (!control.id) control.id = uid();
  const parts = [h('label', { for: control.id }, label), control];
  const described = [];
  if (hint) {
    const hid = uid('hint');
    parts.push(h('p', { class: 'hint', id: hid }, hint));
    described.push(hid);
  }
  if (error) {
    if (!error.id) error.id = uid('err');
    parts.push(error);
    described.push(error.id);
  }
  if (described.length) control.setAttribute('aria-describedby', described.join(' '));
  return h('div', { class: 'field' }, parts);
}

// An inline error slot; set(text) shows it, set('') hides it.
export function errorSlot() {
  const el = h('p', { class: 'error', role: 'alert', hidden: true });
  el.set = (text) => {
    el.textContent = text || '';
    el.hidden = !text;
  };
  return el;
}

// Epoch seconds, ISO text or Date -> local time text (the browser's zone).
export function localTime(t) {
  if (t === null || t === undefined || t === '') return '';
  const d = t instanceof Date ? t : typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

export function table(headers, rows, { caption } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', null,
      caption ? h('caption', null, caption) : null,
      h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, rows)));
}

export function emptyState(text, action) {
  return h('div', { class: 'empty' }, h('p', null, text), action || null);
}

export function page(title, ...children) {
  const main = document.getElementById('main');
  main.replaceChildren(h('h1', null, title), ...children.flat(Infinity).filter((c) => c));
  return main;
}

export function pre(value) {
  return h('pre', { class: 'json', tabindex: '0' },
    typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

// Runs an async action, showing its error (as the server returned it) in `slot`.
export async function attempt(slot, fn) {
  slot?.set('');
  try {
    return await fn();
  } catch (e) {
    if (slot) slot.set(String(e));
    else throw e;
    return undefined;
  }
}
