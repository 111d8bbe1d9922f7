-- KEYS: user key prefix (`<base>:out:job:`), pending zset. ARGV: retention ms, then pairs of job
-- id and outcome JSON. Records each outcome once (a second finish of a job, by an owner that
-- was fenced, changes nothing). Returns, per job, 1 when this call recorded it.
local out = {}
for i = 2, #ARGV, 2 do
  local key = KEYS[1] .. ARGV[i]
  if redis.call('HSETNX', key, 'outcome', ARGV[i + 1]) == 1 then
    redis.call('HDEL', key, 'data')
    redis.call('PEXPIRE', key, ARGV[1])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return out
