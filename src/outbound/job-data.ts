/**
 * The shape check of a job's data where it arrives from outside this process: an `outbound`
 * notice on the control plane can be published by anything with access to Redis, and a job
 * that is not one must be dropped (its owner finds the real one in the user's outbox), never
 * sent half-formed.
 */
import { z } from 'zod';
import type { OutboundJobData } from './types.js';

const base = {
  v: z.literal(1),
  userId: z.string().min(1),
  roomId: z.string().min(1),
  messageId: z.string().min(1),
  requestHash: z.string(),
  acceptedAtMs: z.number(),
  acceptId: z.string(),
};

const jobDataSchema = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.literal('send'),
    send: z.object({
      text: z.string(),
      threadId: z.string().optional(),
      alias: z.string().optional(),
      emoji: z.string().optional(),
      attachments: z.array(z.unknown()).optional(),
    }),
  }),
  z.object({ ...base, kind: z.literal('edit'), text: z.string() }),
  z.object({ ...base, kind: z.literal('delete') }),
  z.object({ ...base, kind: z.literal('reaction'), emoji: z.string(), shouldReact: z.boolean() }),
]);

/** The job data, or undefined when `value` is not a job of `userId`. */
export function parseJobData(value: unknown, userId: string): OutboundJobData | undefined {
  const parsed = jobDataSchema.safeParse(value);
  return parsed.success && parsed.data.userId === userId ? (parsed.data as OutboundJobData) : undefined;
}
