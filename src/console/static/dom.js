/**
 * Building DOM without HTML strings. Every value from the API (message text, usernames, URLs)
 * may be hostile: it only ever becomes a text node or `textContent`, never markup, so nothing
 * it contains is parsed as HTML. No API that parses an HTML string is used anywhere in the
 * console (test/integration/console-router.test.ts checks).
 */

/**
 * `el('td', { className: 'x', dataset: { id } }, 'text', child)`: an element with properties,
 * `data-*` attributes, listeners (`on: { click }`) and children (strings become text nodes).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { className, dataset, on, attrs, title } = props;
  if (className) node.className = className;
  if (title !== undefined) node.title = String(title);
  for (const [key, value] of Object.entries(dataset ?? {})) node.dataset[key] = String(value);
  for (const [key, value] of Object.entries(attrs ?? {})) node.setAttribute(key, String(value));
  for (const [type, listener] of Object.entries(on ?? {})) node.addEventListener(type, listener);
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** The element with this id (throws if the page lacks it: a bug, not a runtime condition). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`console page has no #${id}`);
  return node;
}

/** Sets a text (or clears it with ''). */
export function setText(node, text) {
  node.textContent = text ?? '';
}

/** Shortens a long text for a table cell; the full value stays in the raw view. */
export function clip(text, max = 200) {
  const value = String(text ?? '');
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

/** A local time with seconds, from an ISO string. */
export function timeOf(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso ?? '') : date.toLocaleTimeString();
}

/** A random id for `Idempotency-Key` (crypto.randomUUID needs a secure context; this does not). */
export function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
