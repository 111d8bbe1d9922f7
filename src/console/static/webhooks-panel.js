/**
 * The user's webhooks: list (with each one's content filter and format), create (the signing
 * secret is shown once, as the API returns it once), send a test event, the last delivery
 * attempts with status code, duration and attempt number, and each webhook's delivery
 * statistics (success rate, backlog, last success and error).
 */
import { describeError } from './api.js';
import { byId, clip, el, setText, timeOf } from './dom.js';

const DELIVERY_POLL_MS = 700;
const DELIVERY_POLL_FOR_MS = 30_000;

function list(value) {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A webhook's content filter in a few words (the JSON is in the cell's title). */
function describeFilter(filter) {
  if (!filter) return 'none';
  const parts = [];
  if (filter.excludeOwn) parts.push('not my own');
  if (filter.mentionsMe) parts.push('mentioning me');
  if (filter.threadId) parts.push(`thread ${filter.threadId}`);
  if (filter.senders) parts.push(`from ${filter.senders.join(', ')}`);
  if (filter.messageTypes) parts.push(`types ${filter.messageTypes.join(', ')}`);
  return parts.join('; ');
}

export function createWebhooksPanel({ api, onUnauthorized }) {
  const form = byId('webhook-form');
  const body = byId('webhooks-body');
  const empty = byId('webhooks-empty');
  const errorLine = byId('webhook-error');
  const secretLine = byId('webhook-secret');
  const deliveries = byId('deliveries');
  const deliveriesBody = byId('deliveries-body');
  const deliveriesEmpty = byId('deliveries-empty');
  let selected;
  let generation = 0;

  function fail(err) {
    if (err.status === 401) return onUnauthorized(err);
    setText(errorLine, describeError(err));
  }

  function stateOf(webhook) {
    if (webhook.enabled)
      return webhook.consecutiveFailures > 0 ? `enabled, ${webhook.consecutiveFailures} failing` : 'enabled';
    return `disabled (${webhook.disabledReason ?? 'manually'})`;
  }

  /** "97.5% of 120 · 2 pending · 0 dead", the last success and error in the tooltip. */
  function renderStats(cell, stats) {
    const rate =
      stats.successRate === null
        ? 'no attempts'
        : `${Math.round(stats.successRate * 1000) / 10}% of ${stats.attempts.total}`;
    cell.dataset.successRate = stats.successRate === null ? '' : String(stats.successRate);
    cell.dataset.pending = String(stats.backlog.pending);
    cell.dataset.deadLetters = String(stats.backlog.deadLetters);
    setText(cell, `${rate} · ${stats.backlog.pending} pending · ${stats.backlog.deadLetters} dead`);
    const lastError = stats.lastError
      ? `${timeOf(stats.lastError.at)} ${clip(stats.lastError.error, 80)}`
      : 'none';
    cell.title = `Last success: ${stats.lastSuccessAt ? timeOf(stats.lastSuccessAt) : 'never'}\nLast error: ${lastError}`;
  }

  async function loadStats(id) {
    const loading = generation;
    const cell = body.querySelector(`tr[data-webhook-id="${CSS.escape(id)}"] .stats`);
    if (!cell) return;
    let stats;
    try {
      stats = await api.request('GET', `v1/webhooks/${encodeURIComponent(id)}/stats`);
    } catch (err) {
      return fail(err);
    }
    if (loading === generation) renderStats(cell, stats);
  }

  async function load() {
    const loading = generation;
    let answer;
    try {
      answer = await api.request('GET', 'v1/webhooks');
    } catch (err) {
      return fail(err);
    }
    if (loading !== generation) return;
    const webhooks = answer.webhooks ?? [];
    body.replaceChildren(
      ...webhooks.map((webhook) =>
        el(
          'tr',
          { dataset: { webhookId: webhook.id } },
          el(
            'td',
            { title: webhook.description || webhook.url },
            el('div', { className: 'mono' }, webhook.id),
            el('div', { className: 'muted' }, clip(webhook.url, 80)),
          ),
          el(
            'td',
            { className: 'nowrap' },
            webhook.topics.join(', '),
            webhook.format === 'rocketchat' && el('div', { className: 'muted format' }, 'Rocket.Chat format'),
          ),
          el(
            'td',
            {
              className: 'filter',
              title: webhook.filter ? JSON.stringify(webhook.filter) : 'no content filter',
            },
            clip(describeFilter(webhook.filter), 80),
          ),
          el('td', { className: 'nowrap' }, stateOf(webhook)),
          el('td', { className: 'stats nowrap' }, '…'),
          el(
            'td',
            { className: 'nowrap' },
            el(
              'button',
              {
                className: 'small',
                attrs: { type: 'button' },
                dataset: { action: 'test' },
                on: { click: () => sendTest(webhook.id) },
              },
              'Send test',
            ),
            ' ',
            el(
              'button',
              {
                className: 'small',
                attrs: { type: 'button' },
                dataset: { action: 'deliveries' },
                on: { click: () => select(webhook.id) },
              },
              'Deliveries',
            ),
          ),
        ),
      ),
    );
    empty.hidden = webhooks.length > 0;
    await Promise.all(webhooks.map((webhook) => loadStats(webhook.id)));
  }

  async function loadDeliveries(id) {
    const loading = generation;
    const answer = await api.request('GET', `v1/webhooks/${encodeURIComponent(id)}/deliveries?limit=20`);
    if (loading !== generation || selected !== id) return [];
    const attempts = answer.deliveries ?? [];
    deliveriesBody.replaceChildren(
      ...attempts.map((attempt) =>
        el(
          'tr',
          {
            dataset: {
              eventId: attempt.eventId,
              attempt: attempt.attempt,
              statusCode: attempt.statusCode ?? '',
              outcome: attempt.outcome,
            },
          },
          el('td', { className: 'nowrap', title: attempt.at }, timeOf(attempt.at)),
          el('td', { title: attempt.eventId }, attempt.eventType),
          el('td', { className: 'attempt nowrap' }, `#${attempt.attempt}`),
          el('td', { className: 'status-code nowrap' }, attempt.statusCode ?? '—'),
          el('td', { className: 'duration nowrap' }, `${attempt.durationMs} ms`),
          el(
            'td',
            { className: `status-${attempt.outcome}`, title: attempt.error ?? '' },
            attempt.error ? `${attempt.outcome}: ${clip(attempt.error, 80)}` : attempt.outcome,
            attempt.nextAttemptAt ? ` (retry ${timeOf(attempt.nextAttemptAt)})` : '',
          ),
        ),
      ),
    );
    deliveriesEmpty.hidden = attempts.length > 0;
    await loadStats(id);
    return attempts;
  }

  async function select(id) {
    selected = id;
    deliveries.hidden = false;
    setText(byId('deliveries-of'), id);
    deliveriesBody.replaceChildren();
    try {
      await loadDeliveries(id);
    } catch (err) {
      fail(err);
    }
  }

  async function sendTest(id) {
    setText(errorLine, '');
    let eventId;
    try {
      ({ eventId } = await api.request('POST', `v1/webhooks/${encodeURIComponent(id)}/test`));
    } catch (err) {
      return fail(err);
    }
    await select(id);
    // The attempt is made by a worker shortly after: watch for it for a while.
    const watching = generation;
    const started = Date.now();
    while (watching === generation && selected === id && Date.now() - started < DELIVERY_POLL_FOR_MS) {
      await new Promise((resolve) => setTimeout(resolve, DELIVERY_POLL_MS));
      if (watching !== generation || selected !== id) return;
      try {
        const attempts = await loadDeliveries(id);
        if (attempts.some((attempt) => attempt.eventId === eventId)) return;
      } catch (err) {
        return fail(err);
      }
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setText(errorLine, '');
    secretLine.hidden = true;
    const input = {
      url: byId('webhook-url').value.trim(),
      topics: list(byId('webhook-topics').value),
    };
    const events = list(byId('webhook-events').value);
    if (events.length > 0) input.events = events;
    const description = byId('webhook-description').value.trim();
    if (description) input.description = description;
    const filter = byId('webhook-filter').value.trim();
    if (filter) {
      try {
        input.filter = JSON.parse(filter);
      } catch {
        return setText(errorLine, 'Filter must be JSON, e.g. {"excludeOwn": true}');
      }
    }
    const format = byId('webhook-format').value;
    if (format !== 'gateway') input.format = format;
    let created;
    try {
      created = await api.request('POST', 'v1/webhooks', input);
    } catch (err) {
      return fail(err);
    }
    secretLine.replaceChildren(
      'Created ',
      el('code', {}, created.id),
      '. Signing secret, shown only now: ',
      el('code', { className: 'secret' }, created.secret),
      ...(created.token
        ? ['. Rocket.Chat token (the body\'s "token"): ', el('code', { className: 'token' }, created.token)]
        : []),
    );
    secretLine.hidden = false;
    byId('webhook-url').value = '';
    await load();
    await select(created.id);
  });
  byId('webhooks-refresh').addEventListener('click', () => load());
  byId('deliveries-refresh').addEventListener('click', () => selected && select(selected));

  return {
    load,
    reset() {
      generation++;
      selected = undefined;
      body.replaceChildren();
      deliveriesBody.replaceChildren();
      deliveries.hidden = true;
      secretLine.hidden = true;
      secretLine.replaceChildren();
      empty.hidden = false;
      setText(errorLine, '');
    },
  };
}
