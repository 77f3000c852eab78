// The console's entry point: sign-in, navigation and the hash router.
import * as api from './api.js';
import { h, field, errorSlot, page } from './ui.js';
import { setsPage, setPage } from './sets.js';
import { metricsPage } from './metrics.js';
import { eventsPage } from './events.js';
import { mailboxPage, messagePage } from './mailbox.js';
import { templatesPage } from './templates.js';
import { accountPage } from './account.js';

let signedIn = null;

const routes = [
  [/^#\/sets$/, () => setsPage()],
  [/^#\/sets\/([^/]+)$/, (m) => setPage(decodeURIComponent(m[1]))],
  [/^#\/metrics$/, () => metricsPage()],
  [/^#\/events$/, () => eventsPage()],
  [/^#\/mailbox$/, () => mailboxPage()],
  [/^#\/mailbox\/([^/]+)$/, (m) => messagePage(decodeURIComponent(m[1]))],
  [/^#\/templates$/, () => templatesPage()],
  [/^#\/account$/, () => accountPage()],
];

function showChrome(on) {
  document.getElementById('nav').hidden = !on;
  document.getElementById('who').hidden = !on;
  if (on) {
    document.getElementById('who-key').textContent =
      `Signed in with ${signedIn.accessKeyId}${signedIn.name ? ` (${signedIn.name})` : ''}`;
  }
}

function signInPage() {
  showChrome(false);
  const id = h('input', { name: 'accessKeyId', autocomplete: 'username', required: true,
    spellcheck: false });
  const secret = h('input', { name: 'secretAccessKey', type: 'password',
    autocomplete: 'current-password', required: true });
  const err = errorSlot();
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'card signin', onsubmit: async (ev) => {
    ev.preventDefault();
    err.set('');
    button.disabled = true;
    try {
      signedIn = await api.signIn(id.value.trim(), secret.value);
      api.setCsrfToken(signedIn.csrfToken);
      showChrome(true);
      if (!location.hash || location.hash === '#/signin') location.hash = '#/sets';
      else route();
    } catch (e) {
      err.set(e.status === 401 ? 'Sign-in refused: ' + e.message : String(e));
      secret.focus();
    } finally {
      button.disabled = false;
    }
  } },
  h('p', null, 'Sign in with an access key of this server: the one printed at its first ' +
    'start, or one made with "mailtally keys create".'),
  field('Access key ID', id),
  field('Secret access key', secret),
  err, button);
  page('Sign in', form);
  id.focus();
}

async function route() {
  if (!signedIn) return signInPage();
  const hash = location.hash || '#/sets';
  for (const a of document.querySelectorAll('#nav a')) {
    if (hash.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const [re, render] of routes) {
    const m = hash.match(re);
    if (m) {
      try {
        await render(m);
      } catch (e) {
        if (e.status !== 401) page('Something went wrong', h('p', { class: 'error' }, String(e)));
      }
      const h1 = document.querySelector('#main h1');
      if (h1 && document.activeElement === document.body) {
        h1.tabIndex = -1;
        h1.focus();
      }
      return;
    }
  }
  location.hash = '#/sets';
}

api.setSignedOutHandler(() => {
  signedIn = null;
  api.setCsrfToken(null);
  signInPage();
});

document.getElementById('signout').addEventListener('click', async () => {
  try { await api.signOut(); } catch { /* the session may be gone already */ }
  signedIn = null;
  api.setCsrfToken(null);
  location.hash = '';
  signInPage();
});

window.addEventListener('hashchange', () => { route(); });
document.getElementById('tz').textContent = Intl.DateTimeFormat().resolvedOptions().timeZone;

(async () => {
  try {
    signedIn = await api.session();
    api.setCsrfToken(signedIn.csrfToken);
    showChrome(true);
  } catch {
    signedIn = null;
  }
  route();
})();
