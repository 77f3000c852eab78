// The Add/Edit destination dialog; for CloudWatch exactly the guide's "CloudWatch Destination"
// dialog: Enabled, Name, Event types, then per dimension Value Source, Dimension Name and
// Default Value, Add Dimension, Save. Validation runs as the user types.
import * as api from './api.js';
import { h, field, errorSlot, uid } from './ui.js';
import {
  EVENT_TYPES, VALUE_SOURCES, AUTO_TAGS, HIGH_CARDINALITY, MAX_DIMENSIONS, MSG,
  checkName, checkDimensionName, checkDefaultValue, checkArn,
} from './rules.js';

const TITLES = {
  cloudwatch: 'CloudWatch Destination', sns: 'SNS Destination',
  firehose: 'Kinesis Data Firehose Destination', eventbridge: 'EventBridge Destination',
  pinpoint: 'Pinpoint Destination',
};

export function destinationType(d) {
  if (d.CloudWatchDestination) return 'cloudwatch';
  if (d.SnsDestination) return 'sns';
  if (d.KinesisFirehoseDestination) return 'firehose';
  if (d.EventBridgeDestination) return 'eventbridge';
  return 'pinpoint';
}

function autoTagList() {
  let list = document.getElementById('auto-tags');
  if (!list) {
    list = h('datalist', { id: 'auto-tags' },
      AUTO_TAGS.map(([name, what]) => h('option', { value: name, label: what })));
    document.body.append(list);
  }
  return list.id;
}

export function openDestinationDialog({ setName, type, existing, onSaved }) {
  const editing = !!existing;
  const enabled = h('input', { type: 'checkbox', name: 'enabled',
    checked: editing ? !!existing.Enabled : true });
  const name = h('input', { name: 'destinationName', spellcheck: false, autocomplete: 'off',
    value: existing?.Name || '', disabled: editing });
  const nameErr = errorSlot();
  name.addEventListener('input', () => nameErr.set(checkName(name.value)));

  const chosen = new Set(existing?.MatchingEventTypes || []);
  const typeBoxes = EVENT_TYPES.map(([value, label, meaning]) => {
    const box = h('input', { type: 'checkbox', name: 'eventType', value, id: uid('et'),
      checked: chosen.has(value) });
    const descId = uid('etd');
    box.setAttribute('aria-describedby', descId);
    return [box, h('div', { class: 'check' }, box,
      h('label', { for: box.id }, label), h('span', { class: 'meaning', id: descId }, meaning))];
  });
  const typesErr = errorSlot();
  const types = h('fieldset', { class: 'event-types' }, h('legend', null, 'Event types'),
    typeBoxes.map(([, el]) => el), typesErr);

  const serverErr = errorSlot();
  const advice = h('div', { class: 'advice', 'aria-live': 'polite' });
  let targetSection;
  let collectTarget;
  let validateTarget;

  if (type === 'cloudwatch') {
    const rows = [];
    const rowsBox = h('div', { class: 'dimensions' });
    const countErr = errorSlot();
    const addButton = h('button', { type: 'button', class: 'secondary' }, 'Add Dimension');
    countErr.id = uid('err');
    addButton.setAttribute('aria-describedby', countErr.id);

    const refreshAdvice = () => {
      const notes = [];
      if (rows.length > 1) {
        notes.push('One dimension set per destination: CloudWatch keeps a metric per full ' +
          'combination of these dimensions, so you cannot read it by each dimension ' +
          `separately. If you also want metrics by ${rows[0].name.value || 'the first dimension'}` +
          ' alone, add another destination with only that dimension.');
      }
      for (const r of rows) {
        const n = r.name.value;
        if (HIGH_CARDINALITY.has(n)) {
          notes.push(`${n} can take many different values. Each unique combination of event ` +
            'type, dimension name and dimension value is a separate custom metric, and ' +
            'CloudWatch charges for each one.');
        }
        if (r.source.value === 'LINK_TAG') {
          notes.push('With Link Tag as the value source, only Click events are published to ' +
            'CloudWatch for this destination.');
        }
        if (r.source.value === 'EMAIL_HEADER' && n) {
          notes.push(`When you send, the ${n} header's name and value must use only letters, ` +
            'numbers, _ @ - and . — otherwise the email is still sent but no metric is ' +
            'published.');
        }
      }
      advice.replaceChildren(...[...new Set(notes)].map((t) => h('p', null, t)));
    };

    const checkRow = (r) => {
      let nameProblem = checkDimensionName(r.name.value, r.source.value);
      if (!nameProblem && rows.filter((o) => o.name.value === r.name.value).length > 1) {
        nameProblem = MSG.duplicate;
      }
      r.nameErr.set(r.name.value || r.touched ? nameProblem : '');
      r.name.setAttribute('aria-invalid', String(!!nameProblem && (!!r.name.value || r.touched)));
      const valueProblem = checkDefaultValue(r.value.value);
      r.valueErr.set(r.value.value || r.touched ? valueProblem : '');
      r.value.setAttribute('aria-invalid',
        String(!!valueProblem && (!!r.value.value || r.touched)));
      return !nameProblem && !valueProblem;
    };

    const addRow = (conf) => {
      if (rows.length >= MAX_DIMENSIONS) {
        countErr.set(MSG.tooMany);
        return;
      }
      countErr.set('');
      const n = rows.length + 1;
      const source = h('select', { name: 'valueSource' },
        VALUE_SOURCES.map(([v, l]) => h('option', { value: v, title: null }, l)));
      source.value = conf?.DimensionValueSource || 'MESSAGE_TAG';
      const dimName = h('input', { name: 'dimensionName', list: autoTagList(), spellcheck: false,
        autocomplete: 'off', value: conf?.DimensionName || '' });
      const value = h('input', { name: 'defaultValue', spellcheck: false, autocomplete: 'off',
        value: conf?.DefaultDimensionValue || '' });
      const r = { source, name: dimName, value, nameErr: errorSlot(), valueErr: errorSlot(),
        touched: false };
      const remove = h('button', { type: 'button', class: 'link',
        'aria-label': `Remove dimension ${n}` }, 'Remove');
      r.row = h('fieldset', { class: 'dimension-row' },
        h('legend', null, `Dimension ${n}`),
        field('Value Source', source),
        field('Dimension Name', dimName, { error: r.nameErr,
          hint: 'A message tag, header or link tag name; type or pick an auto-tag such as ' +
            'ses:configuration-set.' }),
        field('Default Value', value, { error: r.valueErr,
          hint: 'Published when an email has no value for this dimension.' }),
        remove);
      const recheck = () => {
        rows.forEach(checkRow);
        refreshAdvice();
      };
      [source, dimName, value].forEach((c) => c.addEventListener('input', recheck));
      source.addEventListener('change', recheck);
      remove.addEventListener('click', () => {
        rows.splice(rows.indexOf(r), 1);
        r.row.remove();
        countErr.set('');
        rows.forEach((o, i) => { o.row.querySelector('legend').textContent = `Dimension ${i + 1}`; });
        recheck();
        addButton.focus();
      });
      rows.push(r);
      rowsBox.append(r.row);
      if (conf) checkRow(r);
      refreshAdvice();
      return r;
    };
    addButton.addEventListener('click', () => {
      const r = addRow();
      if (r) r.source.focus();
    });
    for (const c of existing?.CloudWatchDestination?.DimensionConfigurations || []) addRow(c);
    if (!rows.length) addRow();

    targetSection = h('section', { class: 'cw-dimensions', 'aria-label': 'Dimensions' },
      h('h3', null, 'Dimensions'),
      h('dl', { class: 'sources' }, VALUE_SOURCES.map(([, l, what]) =>
        [h('dt', null, l), h('dd', null, what)])),
      h('p', { class: 'hint' }, 'Dimension names and values can only contain the letters A ' +
        'through Z, the numbers 0 through 9, underscores (_), at signs (@, values only), ' +
        'hyphens (-), periods (., values only) and colons (:, names only, for auto-tags).'),
      rowsBox, h('div', { class: 'row-actions' }, addButton), countErr);
    validateTarget = () => {
      rows.forEach((r) => { r.touched = true; });
      const ok = rows.map(checkRow).every(Boolean);
      if (!rows.length) countErr.set('Add at least one dimension.');
      return ok && rows.length > 0;
    };
    collectTarget = () => ({ CloudWatchDestination: { DimensionConfigurations: rows.map((r) => ({
      DimensionName: r.name.value, DimensionValueSource: r.source.value,
      DefaultDimensionValue: r.value.value })) } });
  } else {
    const specs = {
      sns: [['Topic ARN', 'sns', existing?.SnsDestination?.TopicArn]],
      firehose: [
        ['Delivery stream ARN', 'firehose', existing?.KinesisFirehoseDestination?.DeliveryStreamArn],
        ['IAM role ARN', 'iam', existing?.KinesisFirehoseDestination?.IamRoleArn]],
      eventbridge: [['Event bus ARN', 'events',
        existing?.EventBridgeDestination?.EventBusArn ||
        'arn:aws:events:us-east-1:123456789012:event-bus/default']],
      pinpoint: [['Application ARN', 'mobiletargeting',
        existing?.PinpointDestination?.ApplicationArn]],
    }[type];
    const inputs = specs.map(([label, svc, v]) => {
      const input = h('input', { spellcheck: false, autocomplete: 'off', value: v || '' });
      const err = errorSlot();
      input.addEventListener('input', () => err.set(checkArn(input.value, svc)));
      return { label, svc, input, err };
    });
    targetSection = h('section', null, inputs.map((i) => field(i.label, i.input, { error: i.err })),
      h('p', { class: 'hint' }, 'mailtally records these events in its event log; it does not ' +
        'deliver them to AWS.'));
    validateTarget = () => inputs.every((i) => {
      const p = checkArn(i.input.value, i.svc);
      i.err.set(p);
      return !p;
    });
    collectTarget = () => ({
      sns: () => ({ SnsDestination: { TopicArn: inputs[0].input.value } }),
      firehose: () => ({ KinesisFirehoseDestination: {
        DeliveryStreamArn: inputs[0].input.value, IamRoleArn: inputs[1].input.value } }),
      eventbridge: () => ({ EventBridgeDestination: { EventBusArn: inputs[0].input.value } }),
      pinpoint: () => ({ PinpointDestination: { ApplicationArn: inputs[0].input.value } }),
    }[type]());
  }

  const save = h('button', { type: 'submit' }, 'Save');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const titleId = uid('dlg');
  const dialog = h('dialog', { class: 'destination-dialog', 'aria-labelledby': titleId },
    h('form', { method: 'dialog', novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      serverErr.set('');
      const nameProblem = editing ? '' : checkName(name.value);
      nameErr.set(nameProblem);
      const picked = typeBoxes.filter(([b]) => b.checked).map(([b]) => b.value);
      typesErr.set(picked.length ? '' : MSG.noEventTypes);
      const targetOk = validateTarget();
      if (nameProblem || !picked.length || !targetOk) {
        dialog.querySelector('[aria-invalid="true"], .error:not([hidden])')
          ?.closest('.field, fieldset')?.querySelector('input, select')?.focus();
        return;
      }
      const definition = { Enabled: enabled.checked, MatchingEventTypes: picked,
        ...collectTarget() };
      save.disabled = true;
      try {
        if (editing) {
          await api.call('sesv2', 'UpdateConfigurationSetEventDestination', {
            ConfigurationSetName: setName, EventDestinationName: existing.Name,
            EventDestination: definition });
        } else {
          await api.call('sesv2', 'CreateConfigurationSetEventDestination', {
            ConfigurationSetName: setName, EventDestinationName: name.value,
            EventDestination: definition });
        }
        dialog.close();
        dialog.remove();
        onSaved();
      } catch (e) {
        serverErr.set(String(e));
      } finally {
        save.disabled = false;
      }
    } },
    h('h2', { id: titleId }, TITLES[type]),
    h('div', { class: 'check' }, enabled, h('label', { for: enabled.id = uid('en') }, 'Enabled')),
    field('Name', name, { error: nameErr, hint: 'Letters, numbers, _ and -; up to 64.' }),
    types, targetSection, advice, serverErr,
    h('div', { class: 'dialog-actions' }, cancel, save)));
  cancel.addEventListener('click', () => { dialog.close(); dialog.remove(); });
  dialog.addEventListener('cancel', () => setTimeout(() => dialog.remove(), 0));
  document.body.append(dialog);
  dialog.showModal();
  (editing ? enabled : name).focus();
  return dialog;
}
