/** The console's entry: sign in, then the three panels. Loaded as a module (deferred). */
import { createApi, describeError } from './api.js';
import { byId, setText } from './dom.js';
import { createEventsPanel } from './events-panel.js';
import { createMessagesPanel } from './messages-panel.js';
import { createWebhooksPanel } from './webhooks-panel.js';

const api = createApi();
const signinSection = byId('signin');
const app = byId('app');
const whoami = byId('whoami');
const signinError = byId('signin-error');

function signOut(reason) {
  events.reset();
  messages.reset();
  webhooks.reset();
  api.setToken(undefined);
  app.hidden = true;
  whoami.hidden = true;
  signinSection.hidden = false;
  setText(signinError, reason ?? '');
}

/** A 401 from any call: the gateway token expired (or was revoked): sign in again. */
function onUnauthorized(err) {
  signOut(`Signed out: ${describeError(err)}`);
}

const events = createEventsPanel({
  api,
  onEvent: (envelope) => messages.handleEvent(envelope),
  onUnauthorized,
});
const messages = createMessagesPanel({ api, onUnauthorized });
const webhooks = createWebhooksPanel({ api, onUnauthorized });

byId('signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const submit = byId('signin-submit');
  const password = byId('signin-password');
  setText(signinError, '');
  submit.disabled = true;
  try {
    const session = await api.request('POST', 'v1/sessions', {
      username: byId('signin-username').value.trim(),
      password: password.value,
    });
    api.setToken(session.token);
    password.value = '';
    setText(byId('whoami-name'), session.username);
    setText(byId('whoami-id'), `(${session.userId})`);
    signinSection.hidden = true;
    whoami.hidden = false;
    app.hidden = false;
    await webhooks.load();
  } catch (err) {
    setText(signinError, describeError(err));
  } finally {
    submit.disabled = false;
  }
});

byId('signout').addEventListener('click', () => signOut());
