-- KEYS: job hash, pending zset, seq counter, message index, lease, consumers, consumer topics.
-- ARGV: job id, data JSON, message id, request hash, accept id, retention ms, outbox consumer
-- id, outbox consumer expiry ms, '1' to index the message id (a send: its room is found by it),
-- room id, kind, the holder's channel name without the worker id, the notice before its
-- sequence number, the notice between the sequence number and the data.
-- Returns {'exists', request hash, message id, outcome or ''} for a job id already accepted,
-- else {'new', seq, lease value or '', receivers of the notice}. The user stays wanted while it
-- has sends to make (a consumer of the `user` topic, which carries the ephemeral refusals of
-- sends: see job-runner.ts), so a worker holds its session even if nobody listens to its
-- events. The holder of the session, if any, is told at once (see control-plane.ts
-- `outboundNoticeParts`): the notice costs no round trip of its own.
if redis.call('EXISTS', KEYS[1]) == 1 then
  local f = redis.call('HMGET', KEYS[1], 'requestHash', 'messageId', 'outcome')
  return {'exists', f[1] or '', f[2] or '', f[3] or ''}
end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'seq', seq, 'messageId', ARGV[3], 'requestHash', ARGV[4], 'acceptId', ARGV[5], 'roomId', ARGV[10], 'kind', ARGV[11])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
if ARGV[9] == '1' then
  redis.call('HSET', KEYS[4], ARGV[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[4], ARGV[6])
end
redis.call('ZADD', KEYS[6], 'GT', ARGV[8], ARGV[7])
redis.call('HSET', KEYS[7], ARGV[7], '["user"]')
local lease = redis.call('GET', KEYS[5])
local receivers = 0
if lease then
  local worker = string.match(lease, '^%d+:(.+)$')
  if worker then
    receivers = redis.call('PUBLISH', ARGV[12] .. worker, ARGV[13] .. seq .. ARGV[14] .. ARGV[2] .. '}}')
  end
end
return {'new', tostring(seq), lease or '', receivers}
