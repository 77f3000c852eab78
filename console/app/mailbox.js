// The built-in mailbox: messages delivered to ordinary addresses. A message's HTML is shown in
// an iframe sandboxed without allow-scripts (so no script runs) whose document carries a
// Content-Security-Policy that blocks every remote load; the page's own CSP applies to it too.
import * as api from './api.js';
import { h, field, errorSlot, page, table, emptyState, localTime } from './ui.js';
import PostalMime from '/console/vendor/postal-mime/postal-mime.js';

const FRAME_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; " +
  "font-src data:; form-action 'none'";

export async function mailboxPage() {
  const to = h('input', { name: 'to', type: 'search', spellcheck: false, autocomplete: 'off' });
  const err = errorSlot();
  const list = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    err.set('');
    const q = new URLSearchParams({ limit: '200' });
    if (to.value.trim()) q.set('to', to.value.trim());
    try {
      const r = await api.local(`mailbox?${q}`);
      const rows = r.messages.map((m) => h('tr', null,
        h('td', null, localTime(m.deliveredAt)),
        h('td', { class: 'wrap' }, m.recipient),
        h('td', { class: 'wrap' }, (m.commonHeaders?.from || [m.source]).join(', ')),
        h('td', { class: 'wrap' }, h('a', { href: `#/mailbox/${encodeURIComponent(m.messageId)}` },
          m.commonHeaders?.subject || '(no subject)'))));
      list.replaceChildren(rows.length ? table(['Delivered', 'To', 'From', 'Subject'], rows,
        { caption: `${rows.length} message${rows.length === 1 ? '' : 's'}` })
        : emptyState('The mailbox is empty. Mail sent to any address outside ' +
          'simulator.amazonses.com lands here; send one with the API or the AWS CLI.'));
    } catch (e) {
      err.set(String(e));
    }
  };
  page('Mailbox',
    h('form', { class: 'controls', onsubmit: (ev) => { ev.preventDefault(); load(); } },
      field('Recipient', to), h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Filter'))),
    err, list);
  await load();
}

// The HTML as a standalone document with its own CSP in front (the frame has no scripts, so
// the meta element is read before any of the message's content).
function frameDocument(html) {
  return `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${FRAME_CSP}">` +
    `<base target="_blank"></head><body>${html}</body></html>`;
}

export async function messagePage(id) {
  const raw = await api.local(`mailbox/${encodeURIComponent(id)}`);
  const mail = await PostalMime.parse(raw);
  const views = [];
  if (mail.html) {
    const frame = h('iframe', { class: 'mail-html', title: 'Message HTML (sandboxed)',
      sandbox: '', referrerpolicy: 'no-referrer' });
    frame.srcdoc = frameDocument(mail.html);
    views.push(['HTML', h('div', null, h('p', { class: 'sandbox-note' }, 'Shown sandboxed: ' +
      'scripts do not run and remote content (images, styles, fonts) is not loaded.'), frame)]);
  }
  if (mail.text) views.push(['Text', h('pre', { class: 'mail-text', tabindex: '0' }, mail.text)]);
  views.push(['Headers', table(['Header', 'Value'], mail.headers.map((x) =>
    h('tr', null, h('th', { scope: 'row' }, x.key), h('td', { class: 'wrap' }, x.value))))]);
  views.push(['Raw source', h('pre', { class: 'raw', tabindex: '0' }, raw)]);

  const tabs = views.map(([label], i) => h('button', { type: 'button', role: 'tab',
    id: `mtab-${i}`, 'aria-controls': `mpanel-${i}`, 'aria-selected': String(i === 0),
    tabindex: i === 0 ? '0' : '-1' }, label));
  const panels = views.map(([, el], i) => h('section', { role: 'tabpanel', id: `mpanel-${i}`,
    'aria-labelledby': `mtab-${i}`, hidden: i !== 0 }, el));
  const select = (i) => tabs.forEach((t, j) => {
    t.setAttribute('aria-selected', String(i === j));
    t.tabIndex = i === j ? 0 : -1;
    panels[j].hidden = i !== j;
    if (i === j) t.focus();
  });
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => select(i));
    t.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowRight') select((i + 1) % tabs.length);
      if (ev.key === 'ArrowLeft') select((i + tabs.length - 1) % tabs.length);
    });
  });
  const addr = (a) => (a ? [].concat(a).map((x) => x.address ? (x.name ? `${x.name} <${x.address}>`
    : x.address) : x.name).join(', ') : '');
  page(mail.subject || '(no subject)',
    h('p', null, h('a', { href: '#/mailbox' }, '← Mailbox')),
    h('dl', { class: 'meta' },
      h('dt', null, 'From'), h('dd', null, addr(mail.from)),
      h('dt', null, 'To'), h('dd', null, addr(mail.to)),
      mail.cc ? [h('dt', null, 'Cc'), h('dd', null, addr(mail.cc))] : null,
      h('dt', null, 'Date'), h('dd', null, mail.date ? localTime(mail.date) : ''),
      h('dt', null, 'Message ID'), h('dd', { class: 'mono wrap' }, mail.messageId || '')),
    h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Message views' }, tabs),
    panels);
}

