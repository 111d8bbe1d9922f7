/**
 * Message text analysis: the `md` AST, plus the mentions, channel links and URLs derived from it.
 *
 * `md` comes from @rocket.chat/message-parser, the parser Rocket.Chat itself runs before saving a
 * message (`parseMessageTextToAstMarkdown`), so the AST is byte-for-byte what a real server sends.
 * It is not a direct dependency of this project: it arrives with the @rocket.chat/ddp-client
 * devDependency (through @rocket.chat/core-typings), which the simulator's own tests require.
 */
import { parse } from '@rocket.chat/message-parser';

export interface ParsedText {
  md: unknown[];
  /** `@name` mentions in order of appearance, without duplicates (includes `all` / `here`). */
  mentionedUsernames: string[];
  /** `#name` channel mentions, without duplicates. */
  channelNames: string[];
  /** Links (http, https) found in the text, without duplicates. */
  urls: string[];
}

// Plain words and spaces parse to one PARAGRAPH of PLAIN_TEXT; skipping the parser keeps flood cheap.
const PLAIN_TEXT = /^[A-Za-z0-9 ,!?]+$/;

export function parseMessageText(text: string): ParsedText {
  if (text === '') {
    return { md: [], mentionedUsernames: [], channelNames: [], urls: [] };
  }
  if (PLAIN_TEXT.test(text) && !text.startsWith(' ') && !text.endsWith(' ')) {
    return {
      md: [{ type: 'PARAGRAPH', value: [{ type: 'PLAIN_TEXT', value: text }] }],
      mentionedUsernames: [],
      channelNames: [],
      urls: [],
    };
  }
  const md = parse(text, { emoticons: true }) as unknown[];
  const found = { mentions: new Set<string>(), channels: new Set<string>(), urls: new Set<string>() };
  walk(md, found);
  return {
    md,
    mentionedUsernames: [...found.mentions],
    channelNames: [...found.channels],
    urls: [...found.urls],
  };
}

interface Found {
  mentions: Set<string>;
  channels: Set<string>;
  urls: Set<string>;
}

function walk(node: unknown, found: Found): void {
  if (Array.isArray(node)) {
    for (const child of node) {
      walk(child, found);
    }
    return;
  }
  if (node === null || typeof node !== 'object') {
    return;
  }
  const { type, value } = node as { type?: unknown; value?: unknown };
  if (type === 'MENTION_USER') {
    const name = plainValue(value);
    if (name) {
      found.mentions.add(name);
    }
    return;
  }
  if (type === 'MENTION_CHANNEL') {
    const name = plainValue(value);
    if (name) {
      found.channels.add(name);
    }
    return;
  }
  if (type === 'LINK') {
    const src = plainValue((value as { src?: unknown } | undefined)?.src);
    if (src && /^https?:\/\//i.test(src)) {
      found.urls.add(src);
    }
  }
  walk(value, found);
}

function plainValue(node: unknown): string | undefined {
  if (node && typeof node === 'object' && 'value' in node) {
    const inner = (node as { value: unknown }).value;
    return typeof inner === 'string' ? inner : undefined;
  }
  return undefined;
}
