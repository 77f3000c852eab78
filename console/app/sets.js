// Configuration sets and their event destinations (the SES guide's console flow).
import * as api from './api.js';
import { h, field, errorSlot, page, table, emptyState, pre, attempt, uid } from './ui.js';
import { openDestinationDialog, destinationType } from './destination_dialog.js';
import { checkName, EVENT_TYPE_LABEL } from './rules.js';

export async function setsPage() {
  const name = h('input', { name: 'setName', spellcheck: false, autocomplete: 'off' });
  const nameErr = errorSlot();
  const serverErr = errorSlot();
  name.addEventListener('input', () => nameErr.set(name.value ? checkName(name.value) : ''));
  const form = h('form', { class: 'inline-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const problem = checkName(name.value);
    nameErr.set(problem);
    if (problem) return name.focus();
    const ok = await attempt(serverErr, () =>
      api.call('sesv2', 'CreateConfigurationSet', { ConfigurationSetName: name.value }));
    if (ok !== undefined) location.hash = `#/sets/${encodeURIComponent(name.value)}`;
  } },
  field('New configuration set name', name, { error: nameErr,
    hint: 'Letters, numbers, _ and -; up to 64 characters.' }),
  h('button', { type: 'submit' }, 'Create set'), serverErr);

  const list = h('div');
  page('Configuration sets', form, list);
  const listErr = errorSlot();
  const names = [];
  let token;
  do {
    const r = await api.call('sesv2', 'ListConfigurationSets',
      token ? { NextToken: token, PageSize: 1000 } : { PageSize: 1000 });
    names.push(...(r.ConfigurationSets || []));
    token = r.NextToken;
  } while (token);
  if (!names.length) {
    list.replaceChildren(emptyState('No configuration sets yet. Create one above, then open it ' +
      'to add an event destination that publishes your sending events to CloudWatch.'));
    return;
  }
  const rows = names.map((n) => h('tr', null,
    h('td', null, h('a', { href: `#/sets/${encodeURIComponent(n)}` }, n)),
    h('td', null, h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${n}`,
      onclick: async () => {
        if (!confirm(`Delete the configuration set ${n} and its event destinations?`)) return;
        const ok = await attempt(listErr, () =>
          api.call('sesv2', 'DeleteConfigurationSet', { ConfigurationSetName: n }));
        if (ok !== undefined) setsPage();
      } }, 'Delete'))));
  list.replaceChildren(listErr, table(['Name', 'Actions'], rows,
    { caption: `${names.length} configuration set${names.length === 1 ? '' : 's'}` }));
}

function describeTarget(d) {
  if (d.CloudWatchDestination) {
    return (d.CloudWatchDestination.DimensionConfigurations || []).map((c) =>
      `${c.DimensionName} (${{ MESSAGE_TAG: 'Message Tag', EMAIL_HEADER: 'Email Header',
        LINK_TAG: 'Link Tag' }[c.DimensionValueSource] || c.DimensionValueSource}, default ` +
      `${c.DefaultDimensionValue})`).join('; ');
  }
  if (d.SnsDestination) return d.SnsDestination.TopicArn;
  if (d.KinesisFirehoseDestination) return d.KinesisFirehoseDestination.DeliveryStreamArn;
  if (d.EventBridgeDestination) return d.EventBridgeDestination.EventBusArn;
  if (d.PinpointDestination) return d.PinpointDestination.ApplicationArn;
  return '';
}

// The definition to send back on update: the destination without its name.
export function definitionOf(d) {
  const { Name, ...rest } = d;
  return rest;
}

export async function setPage(setName) {
  const set = await api.call('sesv2', 'GetConfigurationSet', { ConfigurationSetName: setName });
  const tabDest = h('button', { type: 'button', role: 'tab', id: 'tab-dest',
    'aria-controls': 'panel-dest', 'aria-selected': 'true' }, 'Event Destinations');
  const tabDetails = h('button', { type: 'button', role: 'tab', id: 'tab-details',
    'aria-controls': 'panel-details', 'aria-selected': 'false', tabindex: '-1' }, 'Details');
  const panelDest = h('section', { role: 'tabpanel', id: 'panel-dest',
    'aria-labelledby': 'tab-dest' });
  const panelDetails = h('section', { role: 'tabpanel', id: 'panel-details',
    'aria-labelledby': 'tab-details', hidden: true }, pre(set));
  const tabs = [tabDest, tabDetails];
  const panels = [panelDest, panelDetails];
  const select = (i) => tabs.forEach((t, j) => {
    t.setAttribute('aria-selected', String(i === j));
    t.tabIndex = i === j ? 0 : -1;
    panels[j].hidden = i !== j;
    if (i === j) t.focus();
  });
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => select(i));
    t.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') select((i + 1) % 2);
    });
  });

  page(`Configuration set ${setName}`,
    h('p', null, h('a', { href: '#/sets' }, '← All configuration sets')),
    h('div', { role: 'tablist', 'aria-label': 'Configuration set', class: 'tabs' }, tabs),
    panelDest, panelDetails);
  await renderDestinations(setName, panelDest);
}

async function renderDestinations(setName, panel) {
  const err = errorSlot();
  const reload = () => renderDestinations(setName, panel);
  const r = await api.call('sesv2', 'GetConfigurationSetEventDestinations',
    { ConfigurationSetName: setName });
  const dests = r.EventDestinations || [];

  const typeSelect = h('select', { id: uid('desttype'), onchange: () => {
    const type = typeSelect.value;
    typeSelect.value = '';
    if (type) openDestinationDialog({ setName, type, existing: null, onSaved: reload });
  } },
  h('option', { value: '' }, 'Select a destination type'),
  h('option', { value: 'cloudwatch' }, 'CloudWatch'),
  h('option', { value: 'sns' }, 'Amazon SNS'),
  h('option', { value: 'firehose' }, 'Amazon Kinesis Data Firehose'),
  h('option', { value: 'eventbridge' }, 'Amazon EventBridge'));
  const add = h('div', { class: 'field add-destination' },
    h('label', { for: typeSelect.id }, 'Add Destination'), typeSelect);

  let list;
  if (!dests.length) {
    list = emptyState('This set publishes no events yet. Choose a destination type under ' +
      'Add Destination (CloudWatch for metrics and charts), then send email with this set.');
  } else {
    list = table(['Name', 'Type', 'Enabled', 'Event types', 'Dimensions / target', 'Actions'],
      dests.map((d) => h('tr', null,
        h('td', null, d.Name),
        h('td', null, { cloudwatch: 'CloudWatch', sns: 'SNS', firehose: 'Firehose',
          eventbridge: 'EventBridge', pinpoint: 'Pinpoint' }[destinationType(d)]),
        h('td', null, d.Enabled ? 'Yes' : 'No'),
        h('td', null, (d.MatchingEventTypes || []).map((t) => EVENT_TYPE_LABEL[t] || t)
          .join(', ')),
        h('td', { class: 'wrap' }, describeTarget(d)),
        h('td', { class: 'actions' },
          h('button', { type: 'button', 'aria-label': `Edit ${d.Name}`, onclick: () =>
            openDestinationDialog({ setName, type: destinationType(d), existing: d,
              onSaved: reload }) }, 'Edit'),
          h('button', { type: 'button', 'aria-label': `${d.Enabled ? 'Disable' : 'Enable'} ${d.Name}`,
            onclick: async () => {
              const ok = await attempt(err, () =>
                api.call('sesv2', 'UpdateConfigurationSetEventDestination', {
                  ConfigurationSetName: setName, EventDestinationName: d.Name,
                  EventDestination: { ...definitionOf(d), Enabled: !d.Enabled },
                }));
              if (ok !== undefined) reload();
            } }, d.Enabled ? 'Disable' : 'Enable'),
          h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${d.Name}`,
            onclick: async () => {
              if (!confirm(`Delete the event destination ${d.Name}?`)) return;
              const ok = await attempt(err, () =>
                api.call('sesv2', 'DeleteConfigurationSetEventDestination',
                  { ConfigurationSetName: setName, EventDestinationName: d.Name }));
              if (ok !== undefined) reload();
            } }, 'Delete'))),
      ), { caption: 'Event destinations' });
  }
  panel.replaceChildren(add, err, list);
}
