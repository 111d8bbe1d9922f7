/**
 * The `rocketchat` side of one delivery attempt, for the delivery processor: the body
 * (rocketchat-format.ts) with the webhook's token, the room's name and whether the message is a
 * reply the gateway posted; and, after a successful attempt, the receiver's reply handed to the
 * outbound queue as the webhook's owner.
 */
import type { Job } from 'bullmq';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/index.js';
import type { OutboundQueue } from '../outbound/outbound-queue.js';
import type { DeliveryResult } from './delivery-client.js';
import type { DeliveryLedger } from './delivery-ledger.js';
import { type MessageFacts, parseRocketChatReply, renderRocketChatBody } from './rocketchat-format.js';
import type { WebhookJobData } from './webhook-queue.js';
import type { WebhookStore } from './webhook-store.js';

export interface RocketChatDeliveryOptions {
  readonly store: Pick<WebhookStore, 'openToken'>;
  readonly ledger: Pick<DeliveryLedger, 'isReply' | 'markReply'>;
  /** Rocket.Chat's `Site_Url`: `config.rocketchat.url`. */
  readonly siteUrl: string;
  /** Posts replies; without it they are recorded as not posted. */
  readonly replies?: Pick<OutboundQueue, 'accept'>;
  /** A room's name, best effort. */
  readonly roomName?: (userId: string, roomId: string) => Promise<string | undefined>;
  readonly clock: Clock;
  readonly logger?: Logger;
}

/** What an attempt records about the reply. */
export interface ReplyOutcome {
  readonly replyJobId?: string;
  readonly replyError?: string;
}

export class RocketChatDelivery {
  readonly #o: RocketChatDeliveryOptions;
  /** Sealed token -> token: AES-GCM per attempt is wasted work (the sealed value changes with the token). */
  readonly #tokens = new Map<string, string>();

  constructor(options: RocketChatDeliveryOptions) {
    this.#o = options;
  }

  /** The body to send, or undefined for an event outgoing integrations have no body for. */
  async render(
    data: WebhookJobData,
    sealedToken: string,
    facts: MessageFacts | undefined,
  ): Promise<string | undefined> {
    const [isGatewayReply, channelName] = facts
      ? await Promise.all([
          this.#o.ledger.isReply(facts.messageId),
          this.#o.roomName?.(data.userId, facts.roomId).catch(() => undefined),
        ])
      : [false, undefined];
    return renderRocketChatBody(data.payload, {
      token: this.#token(data, sealedToken),
      siteUrl: this.#o.siteUrl,
      channelName,
      isGatewayReply,
    });
  }

  /**
   * Hands the receiver's reply to the outbound queue as the owner, into the event's room. The
   * delivery job's id is the idempotency key: a job run twice (a worker died after the
   * receiver answered) posts once.
   */
  async postReply(
    job: Job<WebhookJobData>,
    result: Extract<DeliveryResult, { kind: 'response' }>,
    facts: MessageFacts | undefined,
  ): Promise<ReplyOutcome> {
    const reply = parseRocketChatReply(result.statusCode, result.contentType, result.body);
    if (reply.kind === 'none') return {};
    if (reply.kind === 'invalid') return { replyError: reply.reason };
    if (!facts) return { replyError: 'the event has no room to post the reply to' };
    const { replies } = this.#o;
    if (!replies) return { replyError: 'replies are not posted by this process' };
    const { userId, webhookId } = job.data;
    try {
      const accepted = await replies.accept(
        userId,
        { kind: 'send', roomId: facts.roomId, send: reply.send },
        `webhook-reply:${job.id}`,
      );
      // Marked as soon as queued: the message reaches Rocket.Chat, its stream and the log, and
      // comes back as a delivery, only after several hops more than this one write.
      await this.#o.ledger.markReply(accepted.view.messageId, this.#o.clock.now());
      return { replyJobId: accepted.view.id };
    } catch (err) {
      this.#o.logger?.warn({ err, userId, webhookId }, 'could not queue a rocketchat webhook reply');
      return { replyError: err instanceof Error ? err.message.slice(0, 300) : 'could not queue the reply' };
    }
  }

  #token(data: WebhookJobData, sealed: string): string {
    if (sealed === '') return '';
    let token = this.#tokens.get(sealed);
    if (token === undefined) {
      token = this.#o.store.openToken(data.userId, data.webhookId, sealed);
      if (this.#tokens.size >= 1000) this.#tokens.clear();
      this.#tokens.set(sealed, token);
    }
    return token;
  }
}
