-- Appends a batch of one user's events, in order, in one call.
-- KEYS: events stream, seen-messages zset, room-watermarks hash, lease generation counter, the
--       user's webhook version (read only).
-- ARGV: max length, min id (age trim), live channel, now ms, seen-trim score (drop dedupe
--       entries older than the log keeps), age-trim flag, the writer's lease generation ('' for
--       writers that hold no session); then per event: type, envelope tail (JSON after the id
--       and type), message id ('' when none), updatedAt ms, flag ('1' a deletion, '2' a key
--       logged once whatever its version: see NewGatewayEvent.dedupe), room id.
-- The count bound is applied on every append (cheap with `~`); the age bounds only when the flag
-- says so (see AGE_TRIM_INTERVAL_MS), which keeps the script short on the hot path.
-- Returns {id, type} per event, or {'', ''} for one already logged; a FENCED error (and nothing
-- appended) when a newer lease generation exists (the writer's session was taken over: see
-- src/sessions/lease.ts). A batch is one script, so it is logged whole or not at all.
--
-- What is published is the event's SSE frame, built here once for every replica and client,
-- after a first line with the user's webhook version as this append read it, and followed by the
-- room id: `wv:<version>\nid: <id>\nevent: <type>\ndata: <envelope>\n\n<roomId>` (parsed by
-- live-message.ts). Listeners route on those fields without parsing the envelope; the webhook
-- dispatcher knows from the version, read atomically with the append, whether the webhooks it
-- holds are still the ones for this event, without a round trip of its own.
if ARGV[7] ~= '' and tonumber(redis.call('GET', KEYS[4]) or '0') > tonumber(ARGV[7]) then
  return redis.error_reply('FENCED a newer session holds this user')
end
local version = redis.call('GET', KEYS[5]) or ''
local out = {}
for b = 7, #ARGV - 6, 6 do
  local typ, tail, mid, rid = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 6]
  local isNew = true
  if mid ~= '' then
    local updated = tonumber(ARGV[b + 4])
    if ARGV[b + 5] == '2' then
      if redis.call('ZADD', KEYS[2], 'NX', ARGV[4], mid) == 0 then isNew = false end
    elseif ARGV[b + 5] == '1' then
      local member = 'del:' .. mid
      if redis.call('ZSCORE', KEYS[2], member) then
        isNew = false
      else
        redis.call('ZADD', KEYS[2], ARGV[4], member)
      end
    elseif redis.call('ZSCORE', KEYS[2], 'del:' .. mid) then
      isNew = false
    else
      local prev = redis.call('ZSCORE', KEYS[2], mid)
      if prev and tonumber(prev) >= updated then
        isNew = false
      else
        if prev and typ == 'message.created' then typ = 'message.updated' end
        redis.call('ZADD', KEYS[2], updated, mid)
        if rid ~= '' then
          local mark = tonumber(redis.call('HGET', KEYS[3], rid) or '0')
          if updated > mark then redis.call('HSET', KEYS[3], rid, updated) end
        end
      end
    end
  end
  if isNew then
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', typ, 'r', rid, 'b', tail)
    redis.call('PUBLISH', ARGV[3], 'wv:' .. version .. '\nid: ' .. id .. '\nevent: ' .. typ .. '\ndata: {"id":"' .. id .. '","type":"' .. typ .. '",' .. tail .. '\n\n' .. rid)
    out[#out + 1] = id
    out[#out + 1] = typ
  else
    out[#out + 1] = ''
    out[#out + 1] = ''
  end
end
if ARGV[6] == '1' then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])
end
return out
