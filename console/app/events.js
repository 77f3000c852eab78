// The SES event log (GET /_mailtally/events through the console), filtered by configuration
// set, event type, message id and time; each record's SES JSON on demand.
import * as api from './api.js';
import { h, field, errorSlot, page, table, emptyState, localTime, pre } from './ui.js';
import { PUBLISHED_EVENT_TYPES } from './rules.js';

const PAGE = 200;

export async function eventsPage() {
  const err = errorSlot();
  const setSelect = h('select', { name: 'configurationSet' }, h('option', { value: '' }, 'Any'));
  const typeSelect = h('select', { name: 'eventType' }, h('option', { value: '' }, 'Any'),
    PUBLISHED_EVENT_TYPES.map((t) => h('option', { value: t }, t)));
  const messageId = h('input', { name: 'messageId', spellcheck: false, autocomplete: 'off' });
  const from = h('input', { type: 'datetime-local', name: 'from' });
  const to = h('input', { type: 'datetime-local', name: 'to' });
  const results = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  let after = 0;
  let shown = [];

  try {
    const r = await api.call('sesv2', 'ListConfigurationSets', { PageSize: 1000 });
    setSelect.append(...(r.ConfigurationSets || []).map((n) => h('option', { value: n }, n)));
  } catch (e) {
    err.set(String(e));
  }

  const inRange = (e) => {
    const t = new Date(e.createdAt).getTime();
    if (from.value && t < new Date(from.value).getTime()) return false;
    if (to.value && t > new Date(to.value).getTime() + 59999) return false;
    return true;
  };

  const render = () => {
    const rows = shown.filter(inRange).map((e) => h('tr', null,
      h('td', null, localTime(e.createdAt)),
      h('td', null, e.eventType),
      h('td', null, e.configurationSet || '—'),
      h('td', { class: 'mono wrap' }, e.messageId),
      h('td', null, h('details', null, h('summary', null, 'SES JSON'), pre(e.record)))));
    results.replaceChildren(rows.length ? table(['Time', 'Type', 'Set', 'Message ID', 'Record'],
      rows, { caption: `${rows.length} event${rows.length === 1 ? '' : 's'}` })
      : emptyState('No events match. Events appear when you send email (each send records a ' +
        'Send event, then Delivery, Bounce, ...); clear the filters or send a message.'));
  };

  const load = async (reset) => {
    err.set('');
    if (reset) { after = 0; shown = []; }
    const q = new URLSearchParams({ limit: String(PAGE), after: String(after) });
    if (setSelect.value) q.set('configuration_set', setSelect.value);
    if (typeSelect.value) q.set('type', typeSelect.value);
    if (messageId.value.trim()) q.set('message_id', messageId.value.trim());
    try {
      const r = await api.local(`events?${q}`);
      shown.push(...r.events);
      after = r.next_after;
      more.hidden = r.events.length < PAGE;
      render();
    } catch (e) {
      err.set(String(e));
    }
  };
  more.addEventListener('click', () => load(false));

  page('Event log',
    h('form', { class: 'controls', onsubmit: (ev) => { ev.preventDefault(); load(true); } },
      field('Configuration set', setSelect), field('Event type', typeSelect),
      field('Message ID', messageId), field('From', from), field('To', to),
      h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Apply filters'))),
    err, results, more);
  await load(true);
}
