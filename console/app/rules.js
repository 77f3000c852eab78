// The SES guide's rules for event destinations and CloudWatch dimensions
// (shared/spec/ses-event-publishing.md sections 4 and 13), checked as the user types. The
// server checks the same rules (src/domain/rules.cpp) and has the last word.

export const MAX_DIMENSIONS = 10;

// The ten SES v2 event types, in the guide's order, with what each one means.
export const EVENT_TYPES = [
  ['SEND', 'Send', 'The call to SES was successful and SES will attempt to deliver the email.'],
  ['REJECT', 'Reject', 'SES accepted the email, then rejected it because it contained a virus.'],
  ['BOUNCE', 'Bounce', "The recipient's mail server permanently rejected the email (hard bounce)."],
  ['COMPLAINT', 'Complaint', 'The recipient marked the email as spam.'],
  ['DELIVERY', 'Delivery', "SES successfully delivered the email to the recipient's mail server."],
  ['OPEN', 'Open', 'The recipient received the message and opened it in their email client.'],
  ['CLICK', 'Click', 'The recipient clicked one or more links contained in the email.'],
  ['RENDERING_FAILURE', 'Rendering Failure',
    'The email was not sent because of a template rendering issue (templated sends only).'],
  ['DELIVERY_DELAY', 'Delivery Delay',
    "The email couldn't be delivered yet because of a temporary issue; SES keeps retrying."],
  ['SUBSCRIPTION', 'Subscription',
    'The recipient changed their subscription preferences (e.g. unsubscribed) via a link.'],
];
export const EVENT_TYPE_LABEL = Object.fromEntries(EVENT_TYPES.map(([v, l]) => [v, l]));

// The names events carry in the event log (and CloudWatch metric names).
export const PUBLISHED_EVENT_TYPES = ['Send', 'Reject', 'Bounce', 'Complaint', 'Delivery', 'Open',
  'Click', 'Rendering Failure', 'DeliveryDelay', 'Subscription'];

export const VALUE_SOURCES = [
  ['MESSAGE_TAG', 'Message Tag',
    'From a message tag: the Tags parameter of the send call or an X-SES-MESSAGE-TAGS header. ' +
    'Auto-tags such as ses:configuration-set are message tags too.'],
  ['EMAIL_HEADER', 'Email Header', 'From a header of the email with the dimension name.'],
  ['LINK_TAG', 'Link Tag', 'From a ses:tags attribute of the link that was clicked.'],
];

// The auto-tags SES adds to every email (offered as dimension-name suggestions).
export const AUTO_TAGS = [
  ['ses:configuration-set', 'the configuration set of the email'],
  ['ses:from-domain', 'the domain of the From address (many values: costly)'],
  ['ses:caller-identity', 'the identity that sent the email'],
  ['ses:source-ip', 'the IP address of the caller (many values: costly)'],
  ['ses:outgoing-ip', 'the IP address SES sent from'],
  ['ses:source-tls-version', 'the TLS version of the caller'],
  ['ses:outgoing-tls-version', 'the TLS version SES used'],
];
export const HIGH_CARDINALITY = new Set(['ses:from-domain', 'ses:source-ip', 'ses:outgoing-ip',
  'ses:caller-identity']);

export const FORBIDDEN_HEADERS = ['Received', 'To', 'From', 'DKIM-Signature', 'CC', 'message-id',
  'Return-Path'];

export const MSG = {
  name: 'Names can only contain the letters A through Z, the numbers 0 through 9, underscores ' +
    '(_) and hyphens (-), and be 1 to 64 characters long.',
  dimensionName: 'Dimension names can only contain the letters A through Z, the numbers 0 ' +
    'through 9, underscores (_), hyphens (-) and colons (:, as in auto-tags such as ' +
    'ses:configuration-set). Spaces, accented characters, non-Latin characters, and other ' +
    'special characters are not allowed.',
  dimensionValue: 'Dimension values can only contain the letters A through Z, the numbers 0 ' +
    'through 9, underscores (_), at signs (@), hyphens (-), and periods (.). Spaces, accented ' +
    'characters, non-Latin characters, and other special characters are not allowed.',
  forbiddenHeader: "You can't use any of the following email headers as the Dimension Name: " +
    'Received, To, From, DKIM-Signature, CC, message-id, or Return-Path.',
  tooMany: `A CloudWatch destination can have at most ${MAX_DIMENSIONS} dimensions. ` +
    'For other combinations, add another event destination.',
  duplicate: 'Each dimension name can be used only once in a destination.',
  noEventTypes: 'Select at least one event type.',
  emptyName: 'Type a name.',
  emptyDimensionName: 'Type a dimension name.',
  emptyDefault: 'Type a default value: it is published when an email has no value for this ' +
    'dimension.',
  tooLong: 'At most 256 characters.',
  arn: 'Type an ARN such as arn:aws:sns:us-east-1:123456789012:my-topic.',
};

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const DIM_NAME_RE = /^[A-Za-z0-9_:-]+$/;
const DIM_VALUE_RE = /^[A-Za-z0-9_@.-]+$/;

// '' when valid, else the message to show.
export function checkName(name) {
  if (!name) return MSG.emptyName;
  return NAME_RE.test(name) ? '' : MSG.name;
}

export function checkDimensionName(name, source) {
  if (!name) return MSG.emptyDimensionName;
  if (name.length > 256) return MSG.tooLong;
  if (!DIM_NAME_RE.test(name)) return MSG.dimensionName;
  if (source === 'EMAIL_HEADER' &&
      FORBIDDEN_HEADERS.some((f) => f.toLowerCase() === name.toLowerCase())) {
    return MSG.forbiddenHeader;
  }
  return '';
}

export function checkDefaultValue(value) {
  if (!value) return MSG.emptyDefault;
  if (value.length > 256) return MSG.tooLong;
  return DIM_VALUE_RE.test(value) ? '' : MSG.dimensionValue;
}

export function checkArn(arn, service) {
  const parts = (arn || '').split(':');
  return parts.length >= 6 && parts[0] === 'arn' && parts[2] === service && parts[5] ? ''
    : MSG.arn;
}
