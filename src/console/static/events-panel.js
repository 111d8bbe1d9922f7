/**
 * Live events over SSE: a native EventSource on `v1/events?topics=...&access_token=...` (an
 * EventSource cannot send an Authorization header, hence the short-lived token from
 * `POST v1/sessions/sse-token`).
 *
 * Resuming, per the SSE spec: while the connection is up the browser reconnects by itself and
 * sends `Last-Event-ID`. When the server ends the stream with a `reconnect` event (it is
 * draining) or the browser gives up (a non-200 answer such as an expired token), the stream is
 * closed and opened again with a fresh token and `?lastEventId=` (a new EventSource cannot send
 * the header), so nothing is missed; if the log no longer holds that id the server says so
 * with a `gap` event. `gap` and `reconnect` show as marker rows.
 */
import { apiUrl, describeError } from './api.js';
import { byId, clip, el, setText } from './dom.js';
import { summarize } from './summary.js';

/**
 * The event types to listen for (an EventSource hears only the types it names), from the
 * gateway's own catalogue, `GET /v1/event-types`: one list, `EVENT_TYPES` in
 * src/events/types.ts. Loaded once.
 */
let eventTypes;
function loadEventTypes() {
  eventTypes ??= fetch(apiUrl('v1/event-types'))
    .then((response) => {
      if (!response.ok) throw new Error(`v1/event-types: HTTP ${response.status}`);
      return response.json();
    })
    .then((catalogue) => catalogue.eventTypes.map((entry) => entry.type))
    .catch((err) => {
      eventTypes = undefined;
      throw err;
    });
  return eventTypes;
}

const MAX_ROWS = 500;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15_000;
/** Answers after which opening again cannot help: show the error and stop. */
const PERMANENT = new Set([400, 403, 404, 409, 422]);

function splitIds(value) {
  return value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
}

export function createEventsPanel({ api, onEvent, onUnauthorized }) {
  const form = byId('topics-form');
  const body = byId('events-body');
  const raw = byId('event-raw');
  const badge = byId('stream-status');
  const errorLine = byId('events-error');
  const empty = byId('events-empty');
  const connectButton = byId('stream-connect');
  const disconnectButton = byId('stream-disconnect');
  const payloads = new WeakMap();

  let source;
  let topics = [];
  let lastEventId;
  let isWanted = false;
  let retryTimer;
  let retryDelayMs = FIRST_RETRY_MS;
  /** Bumped on every open and stop: callbacks of an older attempt see a different number and do nothing. */
  let generation = 0;

  function setState(state, text) {
    badge.dataset.state = state;
    setText(badge, text ?? state);
    connectButton.textContent = state === 'closed' ? 'Connect' : 'Apply topics';
    disconnectButton.disabled = state === 'closed';
  }

  function readTopics() {
    const wanted = [];
    if (byId('topic-room').checked)
      for (const id of splitIds(byId('topic-room-ids').value)) wanted.push(`room:${id}`);
    if (byId('topic-rooms').checked) wanted.push('rooms');
    if (byId('topic-user').checked) wanted.push('user');
    if (byId('topic-presence').checked) wanted.push('presence');
    if (byId('topic-typing').checked)
      for (const id of splitIds(byId('topic-typing-ids').value)) wanted.push(`typing:${id}`);
    return wanted;
  }

  function addRow({ id, type, room, summary, payload, isMarker }) {
    const row = el(
      'tr',
      { className: isMarker ? 'marker' : '', dataset: { type, eventId: id ?? '' } },
      el('td', { className: 'mono nowrap' }, id ?? '—'),
      el('td', { className: 'nowrap' }, type),
      el('td', { className: 'nowrap' }, room ?? ''),
      el('td', { className: 'summary', title: summary }, clip(summary)),
    );
    payloads.set(row, payload);
    body.prepend(row);
    while (body.childElementCount > MAX_ROWS) body.lastElementChild.remove();
    empty.hidden = true;
  }

  function marker(type, summary, payload) {
    addRow({ type, summary, payload, isMarker: true });
  }

  body.addEventListener('click', (event) => {
    const row = event.target.closest('tr');
    if (!row || !payloads.has(row)) return;
    for (const selected of body.querySelectorAll('tr.selected')) selected.classList.remove('selected');
    row.classList.add('selected');
    // textContent: the envelope is shown as text, whatever it contains.
    raw.textContent = JSON.stringify(payloads.get(row), null, 2);
  });

  function parse(data) {
    try {
      return JSON.parse(data);
    } catch {
      return data;
    }
  }

  function closeSource() {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    source?.close();
    source = undefined;
  }

  function scheduleReopen() {
    closeSource();
    const delayMs = Math.round(retryDelayMs * (0.75 + Math.random() * 0.5));
    retryDelayMs = Math.min(retryDelayMs * 2, MAX_RETRY_MS);
    setState('reconnecting', `reconnecting in ${Math.ceil(delayMs / 1000)} s`);
    retryTimer = setTimeout(() => open(true), delayMs);
  }

  /** Opens the stream (again). `isResume`: resuming after a drop, so say so in the list. */
  async function open(isResume) {
    const attempt = ++generation;
    closeSource();
    setState(isResume ? 'reconnecting' : 'connecting');
    let sse;
    let types;
    try {
      [sse, types] = await Promise.all([api.request('POST', 'v1/sessions/sse-token'), loadEventTypes()]);
    } catch (err) {
      if (attempt !== generation) return;
      if (err.status === 401) return onUnauthorized(err);
      setText(errorLine, describeError(err));
      return scheduleReopen();
    }
    if (attempt !== generation || !isWanted) return;
    const url = apiUrl('v1/events');
    url.searchParams.set('topics', topics.join(','));
    url.searchParams.set('access_token', sse.token);
    if (lastEventId) url.searchParams.set('lastEventId', lastEventId);
    const stream = new EventSource(url);
    source = stream;
    const isCurrent = () => source === stream && attempt === generation;

    stream.onopen = () => {
      if (!isCurrent()) return;
      retryDelayMs = FIRST_RETRY_MS;
      setText(errorLine, '');
      setState('live');
      if (isResume && lastEventId)
        marker('resumed', `connected again, resuming after ${lastEventId}`, { lastEventId });
      isResume = false;
    };
    const onData = (event) => {
      if (!isCurrent()) return;
      if (event.lastEventId) lastEventId = event.lastEventId;
      const envelope = parse(event.data);
      const summary =
        typeof envelope === 'object' && envelope !== null ? summarize(envelope) : String(envelope);
      addRow({ id: event.lastEventId, type: event.type, room: envelope?.roomId, summary, payload: envelope });
      onEvent?.(envelope);
    };
    for (const type of types) stream.addEventListener(type, onData);
    stream.addEventListener('gap', (event) => {
      if (!isCurrent()) return;
      const data = parse(event.data);
      marker(
        'gap',
        `events after ${data?.lastEventId ?? '?'} are no longer kept; continuing from ${data?.firstAvailableId ?? 'now'}`,
        data,
      );
    });
    stream.addEventListener('reconnect', (event) => {
      if (!isCurrent()) return;
      const data = parse(event.data);
      marker(
        'reconnect',
        `the server asked to reconnect (${data?.reason ?? 'draining'}); resuming after ${lastEventId ?? 'now'}`,
        data,
      );
      // The server is going away: open a new stream (it lands on another replica) with ?lastEventId=.
      closeSource();
      setState('reconnecting');
      retryTimer = setTimeout(() => open(true), 100 + Math.random() * 400);
    });
    stream.addEventListener('error', (event) => {
      if (!isCurrent()) return;
      if (typeof event.data === 'string') {
        // The server's own `event: error` (a slow client was dropped); the browser resumes.
        marker('error', parse(event.data)?.message ?? 'stream error', parse(event.data));
        return;
      }
      if (stream.readyState === EventSource.CONNECTING) {
        setState('reconnecting'); // the browser retries by itself, with Last-Event-ID
        return;
      }
      diagnose(url, attempt);
    });
  }

  /**
   * The browser gave up, and an EventSource does not say why: ask once with fetch. An expired
   * token or an unavailable server is retried; a refusal (a bad topic, a room this user may not
   * read) is shown and the stream stays closed.
   */
  async function diagnose(url, attempt) {
    closeSource();
    setState('reconnecting');
    const abort = new AbortController();
    let status = 0;
    let message = 'the stream closed';
    try {
      const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
      status = response.status;
      if (!response.ok) {
        const problem = parse(await response.text());
        message = problem?.message ? `${problem.message} (${problem.error})` : `HTTP ${status}`;
      }
    } catch (err) {
      message = `the gateway did not answer (${err.message})`;
    } finally {
      abort.abort();
    }
    if (attempt !== generation || !isWanted) return;
    if (PERMANENT.has(status)) {
      setText(errorLine, message);
      return stop();
    }
    if (status !== 401 && status !== 200) setText(errorLine, message);
    scheduleReopen();
  }

  function start() {
    const wanted = readTopics();
    if (wanted.length === 0) {
      setText(errorLine, 'Pick at least one topic.');
      return;
    }
    setText(errorLine, '');
    topics = wanted;
    // A new set of topics starts live; resuming is for the same stream after a drop.
    lastEventId = undefined;
    isWanted = true;
    retryDelayMs = FIRST_RETRY_MS;
    open(false).catch((err) => setText(errorLine, describeError(err)));
  }

  function stop() {
    isWanted = false;
    generation++;
    closeSource();
    setState('closed');
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    start();
  });
  disconnectButton.addEventListener('click', () => stop());
  byId('events-clear').addEventListener('click', () => {
    body.replaceChildren();
    raw.textContent = '';
    empty.hidden = false;
  });

  return {
    stop,
    reset() {
      stop();
      body.replaceChildren();
      raw.textContent = '';
      setText(errorLine, '');
      empty.hidden = false;
    },
  };
}
