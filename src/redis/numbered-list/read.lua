-- KEYS: hash, list. ARGV: counter field, number to read before ('' for the newest).
local seq = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local start = 0
if ARGV[2] ~= '' then start = seq - tonumber(ARGV[2]) + 1 end
if start < 0 then start = 0 end
local out = {seq, start}
for _, entry in ipairs(redis.call('LRANGE', KEYS[2], start, -1)) do table.insert(out, entry) end
return out
