-- KEYS: record, inflight, pending. ARGV: now, hold until, limit, member, pending since ('' for
-- none: the job is pending already). The pending mark comes first, whatever the reply: the job
-- is in BullMQ (or about to be) and its finish, drop or dead letter settles it.
-- Returns {-1} absent, {-2, reason} disabled, {0} busy,
-- {1, url, secret, prevSecret, prevUntil, format, token, headers}.
-- F: the webhook record's field names (WEBHOOK_FIELDS, webhook-store.ts).
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[4]) end
local rec = redis.call('HMGET', KEYS[1], F.url, F.status, F.disabledReason, F.secret, F.prevSecret, F.prevSecretUntilMs,
  F.format, F.rcToken, F.headers)
if not rec[1] then return {-1} end
if rec[2] ~= 'enabled' then return {-2, rec[3] or 'manual'} end
-- Expired holds (a worker killed mid-attempt) only matter when they would fill every slot, so
-- they are cleared then rather than on every attempt. A job retried takes its own slot back.
local limit = tonumber(ARGV[3])
local held = redis.call('ZCARD', KEYS[2])
if held >= limit then
  held = held - redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
  if held >= limit and not redis.call('ZSCORE', KEYS[2], ARGV[4]) then return {0} end
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
redis.call('PEXPIREAT', KEYS[2], ARGV[2])
return {1, rec[1], rec[4], rec[5] or '', rec[6] or '', rec[7] or '', rec[8] or '', rec[9] or ''}
