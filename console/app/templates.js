// Email templates (SES v2): list, edit, test-render with JSON data. The operations are called
// by name; a server that does not implement them yet answers NotImplemented, shown as is.
import * as api from './api.js';
import { h, field, errorSlot, page, table, emptyState, localTime, pre, attempt } from './ui.js';

export async function templatesPage() {
  const listErr = errorSlot();
  const list = h('div');
  const editor = h('section', { class: 'card', 'aria-labelledby': 'tpl-editor-title' });
  page('Templates', listErr, list, editor);

  let templates = [];
  try {
    const r = await api.call('sesv2', 'ListEmailTemplates', { PageSize: 100 });
    templates = r.TemplatesMetadata || [];
  } catch (e) {
    listErr.set(String(e));
    if (e.code === 'NotImplemented') {
      list.replaceChildren(h('p', { class: 'placeholder' }, 'This server does not implement ' +
        'the SES v2 template operations yet; the editor below will work once it does.'));
    }
  }
  if (!list.childNodes.length) {
    list.replaceChildren(templates.length
      ? table(['Name', 'Created', 'Actions'], templates.map((t) => h('tr', null,
        h('td', null, t.TemplateName), h('td', null, localTime(t.CreatedTimestamp)),
        h('td', null, h('button', { type: 'button', 'aria-label': `Edit ${t.TemplateName}`,
          onclick: () => openEditor(editor, t.TemplateName) }, 'Edit')))),
      { caption: 'Email templates' })
      : emptyState('No templates yet. Write one below: a name, a subject, and an HTML or text ' +
        'part with {{placeholders}}, then test-render it with sample data.'));
  }
  openEditor(editor, null);
}

async function openEditor(editor, templateName) {
  const err = errorSlot();
  const name = h('input', { name: 'templateName', spellcheck: false, autocomplete: 'off',
    value: templateName || '', disabled: !!templateName });
  const subject = h('input', { name: 'subject' });
  const html = h('textarea', { name: 'html', rows: 8, spellcheck: false });
  const text = h('textarea', { name: 'text', rows: 5 });
  const data = h('textarea', { name: 'data', rows: 4, spellcheck: false });
  data.value = '{ "name": "Alex" }';
  const renderErr = errorSlot();
  const rendered = h('div', { 'aria-live': 'polite' });
  if (templateName) {
    const r = await attempt(err, () =>
      api.call('sesv2', 'GetEmailTemplate', { TemplateName: templateName }));
    if (r) {
      subject.value = r.TemplateContent?.Subject || '';
      html.value = r.TemplateContent?.Html || '';
      text.value = r.TemplateContent?.Text || '';
    }
  }
  const content = () => ({ Subject: subject.value, Html: html.value || undefined,
    Text: text.value || undefined });
  const save = async () => {
    const input = { TemplateName: name.value, TemplateContent: content() };
    const ok = await attempt(err, () => api.call('sesv2',
      templateName ? 'UpdateEmailTemplate' : 'CreateEmailTemplate', input));
    if (ok !== undefined) templatesPage();
  };
  const remove = async () => {
    if (!confirm(`Delete the template ${templateName}?`)) return;
    const ok = await attempt(err, () =>
      api.call('sesv2', 'DeleteEmailTemplate', { TemplateName: templateName }));
    if (ok !== undefined) templatesPage();
  };
  const testRender = async () => {
    renderErr.set('');
    rendered.replaceChildren();
    try {
      JSON.parse(data.value);
    } catch (e) {
      return renderErr.set(`The template data is not valid JSON: ${e.message}`);
    }
    const r = await attempt(renderErr, () => api.call('sesv2', 'TestRenderEmailTemplate',
      { TemplateName: name.value, TemplateData: data.value }));
    if (r) rendered.replaceChildren(h('h3', null, 'Rendered message'), pre(r.RenderedTemplate));
  };
  editor.replaceChildren(
    h('h2', { id: 'tpl-editor-title' }, templateName ? `Edit ${templateName}` : 'New template'),
    field('Template name', name), field('Subject', subject), field('HTML part', html),
    field('Text part', text),
    h('div', { class: 'row-actions' },
      h('button', { type: 'button', onclick: save }, templateName ? 'Save' : 'Create template'),
      templateName ? h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete')
        : null),
    err,
    h('h3', null, 'Test render'),
    field('Template data (JSON)', data, { hint: 'Values for the {{placeholders}}; the saved ' +
      'template is rendered.' }),
    h('button', { type: 'button', class: 'secondary', onclick: testRender }, 'Test render'),
    renderErr, rendered);
}
