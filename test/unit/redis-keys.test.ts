import { describe, expect, it } from 'vitest';
import { createKeys } from '../../src/redis/keys.js';

describe("a user's keys", () => {
  const user = createKeys('gw').user('uid1');

  it('all share the user hash tag, so one script may touch any of them on a Redis Cluster', () => {
    const names = [
      user.events,
      user.seenMessages,
      user.roomWatermarks,
      user.lease,
      user.leaseGeneration,
      user.credential,
      user.consumers,
      user.consumerTopics,
      user.sessionState,
      user.liveChannel,
      user.outboundPending,
      user.outboundSeq,
      user.outboundJob('j1'),
      user.outboundRateLimit,
      user.outboundMessages,
      user.webhookIds,
      user.webhook('wh_a'),
      user.webhookAttempts('wh_a'),
      user.webhookDeadLetters('wh_a'),
      user.webhookDeadLetterBodies('wh_a'),
      user.webhookInflight('wh_a'),
      user.webhookPending('wh_a'),
      user.webhookCursor,
      user.webhookVersion,
      user.webhookDispatchLease,
      user.webhookPausedJobs,
      user.hookIds,
    ];
    for (const name of names) expect(name.startsWith('gw:{u:uid1}:')).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  it('keeps the names existing data was written under', () => {
    expect(user.events).toBe('gw:{u:uid1}:events');
    expect(user.leaseGeneration).toBe('gw:{u:uid1}:lease-gen');
    expect(user.webhookAttempts('wh_a')).toBe('gw:{u:uid1}:wh:wh_a:attempts');
    expect(user.webhookPrefix).toBe('gw:{u:uid1}:wh:');
    expect(user.webhook('wh_a').startsWith(user.webhookPrefix)).toBe(true);
    expect(user.outboundJob('j1')).toBe('gw:{u:uid1}:out:job:j1');
  });

  it('refuses ids that would break the hash tag or shape another key', () => {
    const keys = createKeys('gw');
    expect(() => keys.user('a}b')).toThrow(RangeError);
    expect(() => keys.user('a b')).toThrow(RangeError);
    expect(() => user.webhook('list')).toThrow(RangeError);
  });
});
