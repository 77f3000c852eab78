// Drives the web console in real headless Chromium (Debian's /usr/bin/chromium) with
// playwright-core, for tests/test_console.py. One scenario per run:
//   node console_e2e.mjs SCENARIO
// Environment: MAILTALLY_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, SHOTS_DIR (where
// screenshots go), E2E_ARGS (JSON with scenario arguments). Prints one JSON line of
// observations; the Python test asserts on them. Any page error or failed step exits non-zero.
import { chromium } from 'playwright-core';
import path from 'node:path';

const endpoint = process.env.MAILTALLY_ENDPOINT;
const keyId = process.env.AWS_ACCESS_KEY_ID;
const secret = process.env.AWS_SECRET_ACCESS_KEY;
const shots = process.env.SHOTS_DIR;
const args = JSON.parse(process.env.E2E_ARGS || '{}');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox'] });
const pageErrors = [];
const blocked = [];
let lastPage = null;

async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, timezoneId: 'Europe/Berlin',
    locale: 'en-GB' });
  const page = await context.newPage();
  lastPage = page;
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // Expected 401s (before sign-in) and 4xx answers shown to the user are logged by Chromium as
  // 'Failed to load resource'; anything else on the console is an error of the app.
  page.on('console', (m) => {
    if (m.type() !== 'error' || m.text().startsWith('Failed to load resource')) return;
    // What the browser blocked in the sandboxed message frame, as it reports it.
    if (/Content Security Policy|sandboxed/.test(m.text())) blocked.push(m.text());
    else pageErrors.push(m.text());
  });
  page.on('dialog', (d) => d.accept());
  return { context, page };
}

async function shot(page, name, opts = {}) {
  if (!shots) return;
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true, ...opts });
}

// A modal dialog scrolls inside the viewport; a tall one shows all of it at once.
async function tallShot(page, name) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: size.width, height: 1900 });
  await page.waitForTimeout(100);
  await shot(page, name, { fullPage: false });
  await page.setViewportSize(size);
}

async function signIn(page, id = keyId, key = secret) {
  await page.goto(`${endpoint}/console/`);
  await page.getByLabel('Access key ID').fill(id);
  await page.getByLabel('Secret access key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signedIn(page) {
  await signIn(page);
  await page.getByRole('navigation', { name: 'Console sections' }).waitFor();
}

const scenarios = {
  // Wrong secret refused, right one accepted; the session cookie as the browser stores it.
  async signin() {
    const { context, page } = await newPage();
    await page.goto(`${endpoint}/console/#/sets`);
    await page.getByLabel('Access key ID').waitFor();
    await shot(page, 'sign-in');
    await signIn(page, keyId, secret + 'x');
    const refused = await page.getByRole('alert').filter({ hasText: 'refused' }).innerText();
    const navHiddenAfterWrong = await page.locator('#nav').isHidden();
    await page.getByLabel('Secret access key').fill(secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Configuration sets' }).waitFor();
    const cookies = await context.cookies();
    return { refused, navHiddenAfterWrong, cookies };
  },

  // An attacker page on another origin posts a change with the signed-in browser's cookie.
  async crosssite() {
    const { page } = await newPage();
    await signedIn(page);
    await page.goto(args.attackUrl);
    await page.waitForTimeout(1500);
    return { url: page.url(), body: (await page.content()).slice(0, 500) };
  },

  // The guide's flow: a set, then a CloudWatch destination through the dialog, with the inline
  // validation messages along the way.
  async destination() {
    const { page } = await newPage();
    await signedIn(page);
    await page.getByLabel('New configuration set name').fill('bad name');
    const setNameError = await page.getByRole('alert').first().innerText();
    await page.getByLabel('New configuration set name').fill(args.set);
    await page.getByRole('button', { name: 'Create set' }).click();
    await page.getByRole('heading', { name: `Configuration set ${args.set}` }).waitFor();
    await page.getByText('This set publishes no events yet').waitFor();
    await shot(page, 'configuration-set-empty');

    await page.getByLabel('Add Destination').selectOption('cloudwatch');
    const dialog = page.getByRole('dialog', { name: 'CloudWatch Destination' });
    await dialog.waitFor();
    const enabledChecked = await dialog.getByLabel('Enabled', { exact: true }).isChecked();
    const eventTypeLabels = await dialog.locator('fieldset.event-types label').allInnerTexts();
    const sources = await dialog.getByLabel('Value Source').first()
      .locator('option').allInnerTexts();
    await dialog.getByLabel('Name', { exact: true }).fill(args.destination);
    await dialog.getByLabel('Send', { exact: true }).check();
    await dialog.getByLabel('Delivery', { exact: true }).check();

    const row1 = dialog.locator('fieldset.dimension-row').nth(0);
    const nameErr = row1.locator('.error').nth(0);
    // A forbidden header name with the Email Header source.
    await row1.getByLabel('Value Source').selectOption('EMAIL_HEADER');
    await row1.getByLabel('Dimension Name').fill('From');
    const forbidden = await nameErr.innerText();
    // Characters the guide does not allow.
    await row1.getByLabel('Value Source').selectOption('MESSAGE_TAG');
    await row1.getByLabel('Dimension Name').fill('camp aign');
    const badChars = await nameErr.innerText();
    await row1.getByLabel('Default Value').fill('no value!');
    const badValue = await row1.locator('.error').nth(1).innerText();
    // The auto-tag suggestions and the cost advice.
    const suggestions = await page.locator('#auto-tags option')
      .evaluateAll((os) => os.map((o) => o.value));
    await row1.getByLabel('Dimension Name').fill('ses:from-domain');
    const costAdvice = await dialog.locator('.advice').innerText();
    // Ten dimensions at most: the eleventh is refused with a message.
    for (let i = 0; i < 9; i++) await dialog.getByRole('button', { name: 'Add Dimension' }).click();
    const rowsAtTen = await dialog.locator('fieldset.dimension-row').count();
    const oneSetAdvice = await dialog.locator('.advice').innerText();
    await dialog.getByRole('button', { name: 'Add Dimension' }).click();
    const rowsAfterEleventh = await dialog.locator('fieldset.dimension-row').count();
    const tooMany = await dialog.locator('.cw-dimensions > .error').innerText();
    await tallShot(page, 'destination-dialog-validation');
    for (let i = 10; i >= 2; i--) {
      await dialog.getByRole('button', { name: `Remove dimension ${i}` }).click();
    }
    // The guide's example: campaign, Message Tag, default none; Send + Delivery.
    await row1.getByLabel('Value Source').selectOption('MESSAGE_TAG');
    await row1.getByLabel('Dimension Name').fill('campaign');
    await row1.getByLabel('Default Value').fill('none');
    const errorsBeforeSave = await dialog.locator('.error:not([hidden])').count();
    await tallShot(page, 'destination-dialog');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.getByRole('row').filter({ hasText: args.destination });
    await row.waitFor();
    const rowText = await row.innerText();
    await shot(page, 'configuration-set');

    // The server has the last word; its error is shown as returned.
    await page.getByLabel('Add Destination').selectOption('cloudwatch');
    const again = page.getByRole('dialog', { name: 'CloudWatch Destination' });
    await again.getByLabel('Name', { exact: true }).fill(args.destination);
    await again.getByLabel('Send', { exact: true }).check();
    await again.getByLabel('Dimension Name').fill('campaign');
    await again.getByLabel('Default Value').fill('none');
    await again.getByRole('button', { name: 'Save' }).click();
    const serverError = await again.locator('.error:not([hidden])').last().innerText();
    await again.getByRole('button', { name: 'Cancel' }).click();
    return { setNameError, enabledChecked, eventTypeLabels, sources, forbidden, badChars,
      badValue, suggestions, costAdvice, rowsAtTen, oneSetAdvice, rowsAfterEleventh, tooMany,
      errorsBeforeSave, rowText, serverError };
  },

  // Disable a destination from the table, then edit it: one more event type.
  async toggle() {
    const { page } = await newPage();
    await signedIn(page);
    await page.getByRole('link', { name: args.set }).waitFor();
    await shot(page, 'configuration-sets');
    await page.goto(`${endpoint}/console/#/sets/${args.set}`);
    await page.getByRole('button', { name: `Disable ${args.destination}` }).click();
    await page.getByRole('button', { name: `Enable ${args.destination}` }).waitFor();
    await page.getByRole('button', { name: `Edit ${args.destination}` }).click();
    const dialog = page.getByRole('dialog', { name: 'CloudWatch Destination' });
    const nameDisabled = await dialog.getByLabel('Name', { exact: true }).isDisabled();
    const enabledChecked = await dialog.getByLabel('Enabled', { exact: true }).isChecked();
    const dimension = await dialog.getByLabel('Dimension Name').inputValue();
    await dialog.getByLabel('Bounce', { exact: true }).check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The table re-reads the set after the save: wait (bounded) for the new type to show, then
    // report what the row says either way.
    const row = page.getByRole('row').filter({ hasText: args.destination });
    await row.filter({ hasText: 'Bounce' }).waitFor({ timeout: 10000 }).catch(() => {});
    const rowText = await row.innerText();
    return { nameDisabled, enabledChecked, dimension, rowText };
  },

  // The metric chart for the set's dimension set, and the event in the event log.
  async metrics() {
    const { page } = await newPage();
    await signedIn(page);
    let totals = {};
    for (let attempt = 0; attempt < 20; attempt++) {
      await page.goto(`${endpoint}/console/#/metrics`);
      await page.getByRole('heading', { name: 'Metrics', level: 1 }).waitFor();
      const select = page.getByLabel('Dimension set');
      if (await select.isVisible()) {
        const options = await select.locator('option').allInnerTexts();
        if (options.includes(args.dimensionSet)) {
          await select.selectOption(args.dimensionSet);
          await page.locator(`td[data-metric="Total"]`).waitFor();
          await page.waitForTimeout(300);
          totals = Object.fromEntries(await page.locator('td[data-metric]').evaluateAll(
            (tds) => tds.map((td) => [td.dataset.metric, Number(td.textContent)])));
          if ((totals.Send || 0) >= 1 && (totals.Delivery || 0) >= 1) break;
        }
      }
      await page.waitForTimeout(500);
    }
    const canvas = await page.locator('.chart-box canvas').count();
    const chartDatasets = await page.evaluate(() => {
      const c = window.Chart && Object.values(window.Chart.instances)[0];
      return c ? c.data.datasets.map((d) => ({ label: d.label, data: d.data })) : null;
    });
    const costText = await page.locator('h2:has-text("estimated cost") + *').innerText();
    await shot(page, 'metrics');

    await page.goto(`${endpoint}/console/#/events`);
    await page.getByRole('heading', { name: 'Event log' }).waitFor();
    await page.getByLabel('Configuration set').selectOption(args.set);
    await page.getByLabel('Message ID').fill(args.messageId);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('cell', { name: args.messageId }).first().waitFor();
    const types = await page.locator('tbody tr td:nth-child(2)').allInnerTexts();
    await page.locator('tbody tr')
      .filter({ has: page.locator('td:nth-child(2)', { hasText: /^Send$/ }) })
      .getByText('SES JSON').click();
    const json = JSON.parse(await page.locator('details[open] pre').innerText());
    await shot(page, 'event-log');
    return { totals, canvas, chartDatasets, costText, types, json };
  },

  // A message with scripts and remote images, shown sandboxed.
  async mailbox() {
    const { page } = await newPage();
    await signedIn(page);
    await page.goto(`${endpoint}/console/#/mailbox`);
    await page.getByRole('heading', { name: 'Mailbox' }).waitFor();
    await page.getByRole('link', { name: args.subject }).waitFor();
    await shot(page, 'mailbox');
    await page.getByRole('link', { name: args.subject }).click();
    await page.getByRole('heading', { name: args.subject }).waitFor();
    const frame = page.locator('iframe.mail-html');
    await frame.waitFor();
    const sandbox = await frame.getAttribute('sandbox');
    const frameText = await page.frameLocator('iframe.mail-html').locator('body').innerText();
    await page.waitForTimeout(1500);
    await shot(page, 'message');
    await page.getByRole('tab', { name: 'Headers' }).click();
    const headers = await page.getByRole('tabpanel').filter({ visible: true }).innerText();
    await page.getByRole('tab', { name: 'Raw source' }).click();
    const raw = await page.locator('pre.raw').innerText();
    return { sandbox, frameText, headers, rawHasSubject: raw.includes(args.subject), blocked };
  },

  // Templates: list, create, test-render (the server may not implement them yet).
  async templates() {
    const { page } = await newPage();
    await signedIn(page);
    await page.goto(`${endpoint}/console/#/templates`);
    await page.getByRole('heading', { name: 'Templates' }).waitFor();
    await page.getByLabel('Template name').waitFor();
    const listError = await page.locator('main > .error:not([hidden])').allInnerTexts();
    await shot(page, 'templates');
    if (listError.some((t) => t.startsWith('NotImplemented'))) return { notImplemented: listError };
    await page.getByLabel('Template name').fill(args.template);
    await page.getByLabel('Subject').fill('Hello {{name}}');
    await page.getByLabel('HTML part').fill('<p>Hi {{name}}</p>');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByRole('cell', { name: args.template, exact: true }).waitFor();
    await page.getByRole('button', { name: `Edit ${args.template}` }).click();
    await page.getByLabel('Template data (JSON)').fill('{"name": "Kim"}');
    await page.getByRole('button', { name: 'Test render' }).click();
    const rendered = await page.locator('pre.json').last().innerText();
    await page.getByLabel('Template data (JSON)').fill('{"name": ');
    await page.getByRole('button', { name: 'Test render' }).click();
    const badJson = await page.getByRole('alert').filter({ hasText: 'JSON' }).innerText();
    // A rendering error from the server, shown as returned.
    await page.getByLabel('Template data (JSON)').fill('{"other": 1}');
    await page.getByRole('button', { name: 'Test render' }).click();
    const renderError = await page.getByRole('alert')
      .filter({ hasText: 'BadRequestException' }).innerText();
    await shot(page, 'template-render-error');
    return { rendered, badJson, renderError };
  },

  // Account: quota, a new key whose secret is shown once, identities.
  async account() {
    const { page } = await newPage();
    await signedIn(page);
    await page.goto(`${endpoint}/console/#/account`);
    await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();
    await page.getByLabel('Email address or domain').fill(args.identity);
    await page.getByRole('button', { name: 'Add identity' }).click();
    await page.getByRole('cell', { name: args.identity, exact: true }).waitFor();
    await page.getByLabel('New key name').fill(args.keyName);
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretLine = await page.locator('.secret pre').innerText();
    const sent = await page.locator('[data-quota="sent"]').innerText();
    await shot(page, 'account');
    await page.reload();
    await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();
    await page.getByRole('cell', { name: args.identity, exact: true }).waitFor();
    const secretAfterReload = await page.locator('.secret').count();
    return { secretLine, sent, secretAfterReload };
  },

  // Phone width: every page fits without horizontal scrolling.
  async phone() {
    const { page } = await newPage({ width: 375, height: 800 });
    await signedIn(page);
    const widths = {};
    const unlabelled = {};
    for (const [name, hash, heading] of args.pages) {
      await page.goto(`${endpoint}/console/${hash}`);
      await page.getByRole('heading', { name: heading }).first().waitFor();
      await page.waitForTimeout(300);
      widths[name] = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
      }));
      // Every control has a label (or an aria-label).
      unlabelled[name] = await page.evaluate(() => [...document.querySelectorAll(
        'input, select, textarea')].filter((el) => !el.labels?.length &&
        !el.getAttribute('aria-label')).map((el) => el.outerHTML));
      if (name === 'set') {
        await page.getByLabel('Add Destination').selectOption('cloudwatch');
        await page.getByRole('dialog').waitFor();
        widths.dialog = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          dialog: document.querySelector('dialog').scrollWidth,
          dialogClient: document.querySelector('dialog').clientWidth,
        }));
        unlabelled.dialog = await page.evaluate(() => [...document.querySelectorAll(
          'dialog input, dialog select')].filter((el) => !el.labels?.length).map((el) => el.outerHTML));
        // Keyboard: the dialog opens with focus in it, and Escape closes it.
        widths.focusInDialog = { scroll: 0, client: 0,
          inside: await page.evaluate(() => !!document.activeElement.closest('dialog')) };
        await shot(page, 'phone-destination-dialog', { fullPage: false });
        await page.keyboard.press('Escape');
        await page.getByRole('dialog').waitFor({ state: 'detached' });
      }
      if (name === 'metrics' || name === 'sets') await shot(page, `phone-${name}`);
    }
    return { widths, unlabelled };
  },
};

try {
  const result = await scenarios[process.argv[2]]();
  result.pageErrors = pageErrors;
  if (process.argv[2] !== 'mailbox' && blocked.length) result.pageErrors.push(...blocked);
  console.log(JSON.stringify(result));
} catch (e) {
  console.error('page errors:', JSON.stringify(pageErrors));
  if (lastPage) {
    console.error('page text:', await lastPage.locator('#main').innerText().catch(() => '?'));
  }
  throw e;
} finally {
  await browser.close();
}
