/**
 * Sending: `POST v1/messages` answers 202 with the job (`status: 'queued'`); the outcome comes
 * later. It is read two ways, whichever is first: `GET v1/messages/:id` polled for a while, and
 * the `outbound.sent` / `outbound.failed` events when the live stream includes the `user` topic.
 */
import { describeError } from './api.js';
import { byId, clip, el, randomKey, setText } from './dom.js';

const POLL_MS = 500;
const POLL_FOR_MS = 120_000;

export function createMessagesPanel({ api, onUnauthorized }) {
  const form = byId('send-form');
  const body = byId('sent-body');
  const errorLine = byId('send-error');
  const textInput = byId('send-text');
  const rows = new Map();
  let generation = 0;

  function setStatus(id, status, error) {
    const cell = rows.get(id)?.querySelector('.status');
    if (!cell || cell.dataset.status === status) return;
    if (cell.dataset.status !== 'queued' && status === 'queued') return;
    cell.dataset.status = status;
    cell.className = `status status-${status} nowrap`;
    cell.textContent = error ? `${status}: ${error.message ?? error.code ?? ''}` : status;
    cell.title = error ? JSON.stringify(error) : '';
  }

  async function poll(id, started, polling) {
    while (polling === generation && Date.now() - started < POLL_FOR_MS) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (polling !== generation || rows.get(id)?.querySelector('.status')?.dataset.status !== 'queued')
        return;
      try {
        const view = await api.request('GET', `v1/messages/${encodeURIComponent(id)}`);
        if (polling !== generation) return;
        setStatus(id, view.status, view.error);
        if (view.status !== 'queued') return;
      } catch (err) {
        if (err.status === 401) return onUnauthorized(err);
        setText(errorLine, describeError(err));
      }
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const roomId = byId('send-room').value.trim();
    const text = textInput.value;
    setText(errorLine, '');
    let view;
    try {
      // A retried click must not post twice: one key per submitted message.
      view = await api.request('POST', 'v1/messages', { roomId, text }, { 'idempotency-key': randomKey() });
    } catch (err) {
      if (err.status === 401) return onUnauthorized(err);
      setText(errorLine, describeError(err));
      return;
    }
    textInput.value = '';
    const row = el(
      'tr',
      { dataset: { jobId: view.id, messageId: view.messageId } },
      el(
        'td',
        { className: 'mono nowrap', title: `job ${view.id}, message ${view.messageId}` },
        clip(view.id, 14),
      ),
      el('td', { className: 'nowrap' }, roomId),
      el('td', { className: 'text', title: text }, clip(text, 120)),
      el('td', { className: 'status status-queued nowrap', dataset: { status: 'queued' } }, 'queued'),
    );
    rows.set(view.id, row);
    body.prepend(row);
    setStatus(view.id, view.status, view.error);
    poll(view.id, Date.now(), generation);
  });

  return {
    /** Every live event passes here: outcomes of this page's sends update their rows. */
    handleEvent(envelope) {
      if (envelope?.type !== 'outbound.sent' && envelope?.type !== 'outbound.failed') return;
      const data = envelope.data ?? {};
      if (rows.has(data.id)) setStatus(data.id, data.status, data.error);
    },
    reset() {
      generation++;
      rows.clear();
      body.replaceChildren();
      setText(errorLine, '');
    },
  };
}
