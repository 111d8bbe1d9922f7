// biome-ignore-all format: kept compact, as README.md shows it
import { FilePositionStore, GatewayClient } from '../src/index.js';

type ChatMessage = { _id: string; rid: string; msg: string; u: { _id: string; username: string }; mentions?: { _id: string }[] };

/** Replies to every message that mentions the bot, and resumes where it stopped after a restart. */
export async function runMentionBot(baseUrl: string, login: { username: string; password: string }, positionsFile: string, signal?: AbortSignal) {
  const { client, session } = await GatewayClient.login({ baseUrl }, login);
  const store = new FilePositionStore(positionsFile);
  for await (const event of client.events({ topics: ['rooms'], types: ['message.created'], store, signal })) {
    if (event.type !== 'message.created') continue; // a `gap` notice: nothing to answer
    const message = event.data as ChatMessage;
    if (message.u._id === session.userId || !message.mentions?.some((user) => user._id === session.userId)) continue;
    // Keyed by the message answered: an event delivered twice still gets one reply.
    const text = `@${message.u.username} you said: ${message.msg}`;
    await client.sendMessage({ roomId: message.rid, text }, { idempotencyKey: `reply-${message._id}` });
  }
}
