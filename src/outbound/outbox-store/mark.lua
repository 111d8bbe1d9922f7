-- KEYS: user key prefix (`<base>:out:job:`), rate-limit hold. ARGV: now ms, job ids...
-- For each job still pending: records the attempt and counts it. Returns {log mark ms, hold ms,
-- then per job: attempts so far (0 when the job is already final)}.
local time = redis.call('TIME')
local out = {tostring(math.floor(tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000)), tostring(redis.call('PTTL', KEYS[2]))}
for i = 2, #ARGV do
  local key = KEYS[1] .. ARGV[i]
  if redis.call('HEXISTS', key, 'data') == 1 then
    redis.call('HSET', key, 'attempt', ARGV[1])
    out[#out + 1] = redis.call('HINCRBY', key, 'attempts', 1)
  else
    out[#out + 1] = 0
  end
end
return out
