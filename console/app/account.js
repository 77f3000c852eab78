// Account: access keys (create, delete; a new secret is shown once), sending quota and
// statistics (GetAccount), identities (list, create, delete).
import * as api from './api.js';
import { h, field, errorSlot, page, table, emptyState, localTime, attempt } from './ui.js';

export async function accountPage() {
  const quota = h('section', { 'aria-labelledby': 'acct-quota' });
  const keys = h('section', { 'aria-labelledby': 'acct-keys' });
  const ids = h('section', { 'aria-labelledby': 'acct-ids' });
  page('Account', quota, keys, ids);
  await Promise.all([renderQuota(quota), renderKeys(keys), renderIdentities(ids)]);
}

async function renderQuota(box) {
  const err = errorSlot();
  box.replaceChildren(h('h2', { id: 'acct-quota' }, 'Sending quota and statistics'), err);
  const a = await attempt(err, () => api.call('sesv2', 'GetAccount', {}));
  if (!a) return;
  const q = a.SendQuota || {};
  box.append(h('dl', { class: 'meta' },
    h('dt', null, 'Sending'), h('dd', null, a.SendingEnabled ? 'Enabled' : 'Paused'),
    h('dt', null, 'Mode'), h('dd', null, a.ProductionAccessEnabled ? 'Production' :
      'Sandbox (only verified identities can send and receive)'),
    h('dt', null, 'Sent in the last 24 hours'), h('dd', { 'data-quota': 'sent' },
      String(q.SentLast24Hours ?? 0)),
    h('dt', null, 'Maximum per 24 hours'), h('dd', null, String(q.Max24HourSend ?? '')),
    h('dt', null, 'Maximum send rate'), h('dd', null, `${q.MaxSendRate ?? ''} messages/second`)));
}

async function renderKeys(box) {
  const err = errorSlot();
  const name = h('input', { name: 'keyName', autocomplete: 'off', value: 'console' });
  const secretBox = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  const reload = async () => {
    const r = await attempt(err, () => api.listKeys());
    if (!r) return;
    list.replaceChildren(r.keys.length ? table(['Access key ID', 'Name', 'Created', 'Actions'],
      r.keys.map((k) => h('tr', null, h('td', { class: 'mono' }, k.accessKeyId),
        h('td', null, k.name + (k.current ? ' (this session)' : '')),
        h('td', null, localTime(k.createdAt)),
        h('td', null, k.current ? '—' : h('button', { type: 'button', class: 'danger',
          'aria-label': `Delete key ${k.accessKeyId}`, onclick: async () => {
            if (!confirm(`Delete the access key ${k.accessKeyId}? Clients using it stop ` +
              'working within seconds.')) return;
            const ok = await attempt(err, () => api.deleteKey(k.accessKeyId));
            if (ok !== undefined) reload();
          } }, 'Delete')))), { caption: 'Access keys stored in this data dir' })
      : emptyState('No stored access keys (this session uses the environment key).'));
  };
  box.replaceChildren(h('h2', { id: 'acct-keys' }, 'Access keys'),
    h('form', { class: 'inline-form', onsubmit: async (ev) => {
      ev.preventDefault();
      const k = await attempt(err, () => api.createKey(name.value.trim()));
      if (!k) return;
      secretBox.replaceChildren(h('div', { class: 'secret card', role: 'status' },
        h('p', null, h('strong', null, 'Copy the secret now: it is shown only this once.')),
        h('pre', { class: 'mono', tabindex: '0' },
          `export AWS_ACCESS_KEY_ID=${k.accessKeyId} AWS_SECRET_ACCESS_KEY=${k.secretAccessKey}`)));
      reload();
    } }, field('New key name', name), h('button', { type: 'submit' }, 'Create key')),
    err, secretBox, list);
  await reload();
}

async function renderIdentities(box) {
  const err = errorSlot();
  const identity = h('input', { name: 'identity', autocomplete: 'off', spellcheck: false });
  const list = h('div');
  const reload = async () => {
    const r = await attempt(err, () => api.call('sesv2', 'ListEmailIdentities', { PageSize: 1000 }));
    if (!r) return;
    const items = r.EmailIdentities || [];
    list.replaceChildren(items.length ? table(['Identity', 'Type', 'Status', 'Actions'],
      items.map((i) => h('tr', null, h('td', { class: 'wrap' }, i.IdentityName),
        h('td', null, i.IdentityType === 'DOMAIN' ? 'Domain' : 'Email address'),
        h('td', null, i.VerificationStatus || (i.SendingEnabled ? 'Verified' : '')),
        h('td', null, h('button', { type: 'button', class: 'danger',
          'aria-label': `Delete identity ${i.IdentityName}`, onclick: async () => {
            if (!confirm(`Delete the identity ${i.IdentityName}?`)) return;
            const ok = await attempt(err, () => api.call('sesv2', 'DeleteEmailIdentity',
              { EmailIdentity: i.IdentityName }));
            if (ok !== undefined) reload();
          } }, 'Delete')))), { caption: 'Identities' })
      : emptyState('No identities yet. Add the address or domain you send from; in sandbox ' +
        'mode sending needs verified identities.'));
  };
  box.replaceChildren(h('h2', { id: 'acct-ids' }, 'Identities'),
    h('form', { class: 'inline-form', onsubmit: async (ev) => {
      ev.preventDefault();
      const ok = await attempt(err, () => api.call('sesv2', 'CreateEmailIdentity',
        { EmailIdentity: identity.value.trim() }));
      if (ok !== undefined) { identity.value = ''; reload(); }
    } }, field('Email address or domain', identity), h('button', { type: 'submit' }, 'Add identity')),
    err, list);
  await reload();
}
