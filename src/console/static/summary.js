/** A readable one-line summary of a gateway event envelope (plain text: callers set textContent). */

function username(user) {
  return user && typeof user.username === 'string' ? user.username : '?';
}

function messageText(message) {
  if (!message || typeof message !== 'object') return '';
  if (typeof message.msg === 'string' && message.msg !== '') return message.msg;
  if (Array.isArray(message.attachments) && message.attachments.length > 0) return '[attachment]';
  return '';
}

export function summarize(envelope) {
  const data = envelope && typeof envelope.data === 'object' && envelope.data !== null ? envelope.data : {};
  switch (envelope?.type) {
    case 'message.created':
      return `${username(data.u)}: ${messageText(data)}${data.tmid ? ' (in a thread)' : ''}`;
    case 'message.updated':
      return `${username(data.editedBy ?? data.u)} edited: ${messageText(data)}`;
    case 'message.deleted':
      return data.bulk ? 'messages deleted (bulk)' : `message ${data._id ?? '?'} deleted`;
    case 'message.ephemeral':
      return `${username(data.u)} (only you): ${messageText(data)}`;
    case 'typing':
      return `${data.username ?? '?'} ${data.typing ? 'is typing' : 'stopped typing'}`;
    case 'user.status':
      return `${data.username ?? '?'} is ${data.status ?? '?'}${data.statusText ? ` (${data.statusText})` : ''}`;
    case 'room.changed':
      return `room ${data.room?.name ?? data.room?._id ?? '?'} ${data.action ?? 'changed'}`;
    case 'subscription.changed':
      return `subscription to ${data.subscription?.name ?? data.subscription?.rid ?? '?'} ${data.action ?? 'changed'}`;
    case 'notification':
      return `${data.title ?? 'notification'}: ${data.text ?? ''}`;
    case 'session.unauthorized':
      return `Rocket.Chat no longer accepts this session (${data.reason ?? 'unauthorized'}): sign in again`;
    case 'outbound.sent':
      return `${data.kind ?? 'send'} ${data.id ?? ''} sent (message ${data.messageId ?? '?'})`;
    case 'outbound.failed':
      return `${data.kind ?? 'send'} ${data.id ?? ''} failed: ${data.error?.message ?? 'unknown error'}`;
    case 'webhook.disabled':
      return `webhook ${data.webhookId ?? '?'} disabled (${data.reason ?? '?'})`;
    case 'webhook.test':
      return `test event for webhook ${data.webhookId ?? '?'}`;
    default:
      return '';
  }
}
