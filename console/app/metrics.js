// Metrics: pick a dimension set (ListMetrics) and see its event counts over time, stacked by
// event type (GetMetricData, Sum), with totals; dropped datapoints; cost (when the server has it).
import * as api from './api.js';
import { h, field, errorSlot, page, table, emptyState, localTime, pre } from './ui.js';

const SES = 'AWS/SES';
const PUBLISHING = 'mailtally/Publishing';
const COLORS = ['#2f6fde', '#1b998b', '#e8871e', '#c0392b', '#7b4fd6', '#6b8e23', '#d63384',
  '#20809e', '#8d6e63', '#546e7a'];
let chart = null;

async function listMetrics(namespace, metricName) {
  const out = [];
  let token;
  do {
    const input = { Namespace: namespace };
    if (metricName) input.MetricName = metricName;
    if (token) input.NextToken = token;
    const r = await api.call('cloudwatch', 'ListMetrics', input);
    out.push(...(r.Metrics || []));
    token = r.NextToken;
  } while (token);
  return out;
}

const dimKey = (dims) => [...(dims || [])].sort((a, b) => a.Name.localeCompare(b.Name))
  .map((d) => `${d.Name}=${d.Value}`).join(', ') || '(no dimensions)';

function toLocalInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:` +
    `${p(d.getMinutes())}`;
}

// One query per metric: Sum per period. Returns [{label, timestamps, values}].
async function sums(metrics, period, start, end) {
  const queries = metrics.map((m, i) => ({ Id: `m${i}`, Label: m.MetricName, ReturnData: true,
    MetricStat: { Metric: { Namespace: m.Namespace, MetricName: m.MetricName,
      Dimensions: m.Dimensions || [] }, Period: period, Stat: 'Sum' } }));
  const results = new Map(queries.map((q) => [q.Id, { label: q.Label, timestamps: [], values: [] }]));
  let token;
  do {
    const input = { MetricDataQueries: queries, StartTime: start, EndTime: end,
      ScanBy: 'TimestampAscending' };
    if (token) input.NextToken = token;
    const r = await api.call('cloudwatch', 'GetMetricData', input);
    for (const res of r.MetricDataResults || []) {
      const acc = results.get(res.Id);
      acc.timestamps.push(...(res.Timestamps || []));
      acc.values.push(...(res.Values || []));
    }
    token = r.NextToken;
  } while (token);
  return [...results.values()];
}

export async function metricsPage() {
  const err = errorSlot();
  const setSelect = h('select', { name: 'dimensionSet' });
  const metricSelect = h('select', { name: 'metric' });
  const period = h('select', { name: 'period' },
    h('option', { value: '60' }, '1 minute'), h('option', { value: '300' }, '5 minutes'),
    h('option', { value: '3600' }, '1 hour'));
  const now = new Date();
  const from = h('input', { type: 'datetime-local', name: 'from',
    value: toLocalInput(new Date(now.getTime() - 3 * 3600e3)) });
  const to = h('input', { type: 'datetime-local', name: 'to',
    value: toLocalInput(new Date(now.getTime() + 5 * 60e3)) });
  const show = h('button', { type: 'submit' }, 'Show');
  const canvasBox = h('div', { class: 'chart-box' });
  const totals = h('div', { 'aria-live': 'polite' });
  const dropped = h('div');
  const cost = h('div');

  const metrics = await listMetrics(SES);
  const groups = new Map();
  for (const m of metrics) {
    const k = dimKey(m.Dimensions);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(m);
  }
  // Destinations' dimension sets first; the dimensionless account-level series last.
  const keys = [...groups.keys()].sort((a, b) => (a.startsWith('(') - b.startsWith('(')) ||
    a.localeCompare(b));

  const form = h('form', { class: 'controls', onsubmit: (ev) => { ev.preventDefault(); draw(); } },
    field('Dimension set', setSelect),
    field('Metric', metricSelect), field('Period', period), field('From', from), field('To', to),
    h('div', { class: 'field' }, show));

  page('Metrics',
    h('p', { class: 'hint' }, 'Each CloudWatch destination publishes one dimension set, and ' +
      'metrics are read per full set: pick the set, then a metric or all event types.'),
    form, err, canvasBox, totals,
    h('h2', null, 'Dropped datapoints'),
    h('p', { class: 'hint' }, 'Events a CloudWatch destination could not publish (bad header ' +
      'characters, non-ASCII values, link tags on events other than clicks), in the range above.'),
    dropped,
    h('h2', null, 'Custom metrics and estimated cost'), cost);

  if (!keys.length) {
    form.hidden = true;
    canvasBox.replaceChildren(emptyState('No SES metrics yet. Add a CloudWatch event ' +
      'destination to a configuration set, then send email through that set; its events ' +
      'appear here within seconds.', h('a', { href: '#/sets' }, 'Go to configuration sets')));
  } else {
    setSelect.replaceChildren(...keys.map((k) => h('option', { value: k }, k)));
    const fillMetrics = () => {
      const names = [...new Set(groups.get(setSelect.value).map((m) => m.MetricName))].sort();
      metricSelect.replaceChildren(h('option', { value: '*' }, 'All event types (stacked)'),
        ...names.map((n) => h('option', { value: n }, n)));
    };
    setSelect.addEventListener('change', () => { fillMetrics(); draw(); });
    fillMetrics();
  }

  async function draw() {
    err.set('');
    const start = new Date(from.value).getTime() / 1000;
    const end = new Date(to.value).getTime() / 1000;
    if (!(end > start)) return err.set('Choose a range whose end is after its start.');
    const p = Number(period.value);
    drawDropped(start, end, p);
    if (!keys.length) return;
    const chosen = groups.get(setSelect.value)
      .filter((m) => metricSelect.value === '*' || m.MetricName === metricSelect.value);
    let series;
    try {
      series = await sums(chosen, p, start, end);
    } catch (e) {
      return err.set(String(e));
    }
    series.sort((a, b) => a.label.localeCompare(b.label));
    const stamps = [...new Set(series.flatMap((s) => s.timestamps))].sort((a, b) => a - b);
    const datasets = series.map((s, i) => {
      const byTime = new Map(s.timestamps.map((t, j) => [t, s.values[j]]));
      return { label: s.label, data: stamps.map((t) => byTime.get(t) ?? 0),
        backgroundColor: COLORS[i % COLORS.length], stack: 'events', maxBarThickness: 56 };
    });
    if (chart) chart.destroy();
    chart = null;
    const canvas = h('canvas', { role: 'img', 'aria-label':
      `Event counts per ${period.selectedOptions[0].textContent} for ${setSelect.value}, ` +
      'stacked by event type; totals in the table below.' });
    canvasBox.replaceChildren(canvas);
    if (!stamps.length) {
      canvasBox.replaceChildren(emptyState('No datapoints in this range. Send email through ' +
        'the configuration set, or widen the range.'));
    } else if (window.Chart) {
      chart = new window.Chart(canvas, {
        type: 'bar',
        data: { labels: stamps.map((t) => localTime(t)), datasets },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true,
            ticks: { precision: 0 } } } },
      });
    }
    const sum = (a) => a.reduce((x, y) => x + y, 0);
    const rows = series.map((s) => h('tr', null, h('th', { scope: 'row' }, s.label),
      h('td', { class: 'num', 'data-metric': s.label }, String(sum(s.values)))));
    rows.push(h('tr', { class: 'total' }, h('th', { scope: 'row' }, 'Total'),
      h('td', { class: 'num', 'data-metric': 'Total' },
        String(sum(series.map((s) => sum(s.values)))))));
    totals.replaceChildren(table(['Metric', 'Sum in range'], rows,
      { caption: `Totals for ${setSelect.value}` }));
  }

  async function drawDropped(start, end, p) {
    try {
      const ms = await listMetrics(PUBLISHING, 'DroppedDatapoints');
      if (!ms.length) {
        dropped.replaceChildren(emptyState('No datapoints have been dropped.'));
        return;
      }
      const res = await sums(ms, Math.max(p, 3600), start, end);
      const rows = ms.map((m, i) => {
        const d = Object.fromEntries((m.Dimensions || []).map((x) => [x.Name, x.Value]));
        return h('tr', null, h('td', null, d.ConfigurationSet || ''),
          h('td', null, d.EventDestination || ''), h('td', null, d.Reason || ''),
          h('td', { class: 'num' }, String(res[i].values.reduce((a, b) => a + b, 0))));
      });
      dropped.replaceChildren(table(['Configuration set', 'Destination', 'Reason',
        'Dropped in range'], rows));
    } catch (e) {
      dropped.replaceChildren(h('p', { class: 'error' }, String(e)));
    }
  }

  // Per-destination metric counts and the estimated bill (GET /_mailtally/metrics/cost).
  try {
    const c = await api.local('metrics/cost');
    const money = (v) => `$${Number(v).toFixed(2)}`;
    const rows = (c.destinations || []).map((d) => h('tr', null,
      h('td', null, d.configurationSet || ''), h('td', null, d.eventDestination || ''),
      h('td', { class: 'num' }, String(d.metrics)),
      h('td', { class: 'num' }, money(d.estimatedMonthlyCost)),
      h('td', null, d.drivingDimension || '—'),
      h('td', null, d.cap && d.cap.limit !== undefined
        ? `${d.cap.limit}${d.capReached ? ' (reached)' : ''}` : 'none')));
    cost.replaceChildren(
      rows.length ? table(['Configuration set', 'Destination', 'Metrics', 'Est. monthly cost',
        'Dimension driving the count', 'Series cap'], rows)
        : h('p', { class: 'placeholder' }, 'No CloudWatch destination has published yet.'),
      h('p', null, `All AWS/SES metrics: ${c.sesMetrics}, about ${money(c.sesEstimatedMonthlyCost)} ` +
        `a month at ${money(c.pricePerMetricMonth)} per metric (CloudWatch custom-metric price; ` +
        'each event type × dimension-value combination is one metric).'));
  } catch (e) {
    cost.replaceChildren(h('p', { class: 'error' }, String(e)));
  }
  draw();
}
