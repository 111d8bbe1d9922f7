-- KEYS: dead, dead bodies. ARGV: (event id, failedAtMs)... Removes each entry only if it is still
-- the failure that was replayed (a newer failure of the same event stays). Returns how many.
local removed = 0
for i = 1, #ARGV, 2 do
  local body = redis.call('HGET', KEYS[2], ARGV[i])
  if body and cjson.decode(body).failedAtMs == tonumber(ARGV[i + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    removed = removed + 1
  end
end
return removed
