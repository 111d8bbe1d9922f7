-- KEYS: the user's id set, the user's webhook version; ARGV: `keys.webhookPrefix`. Every webhook's
-- dispatch fields in one round trip, after the version they belong to:
-- {version or '', id, status, disabledReason, topics, events, fromId, updatedAtMs, filter, ...}.
-- The record keys are built from the id set inside the script: they share the set's hash tag.
local out = {redis.call('GET', KEYS[2]) or ''}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local f = redis.call('HMGET', ARGV[1] .. id, 'status', 'disabledReason', 'topics', 'events', 'fromId', 'updatedAtMs', 'filter')
  if f[1] and f[3] and f[5] then
    table.insert(out, id)
    for i = 1, 7 do table.insert(out, f[i] or '') end
  end
end
return out
