-- KEYS: the queue's active list. ARGV: job key prefix (`<prefix>:webhooks:`), lock duration (ms),
-- lock token, now (ms), the worker's name ('' for none: no `pb`), then (job id, name, data JSON,
-- opts JSON) per job. test/integration/webhooks-direct-layout.test.ts holds this to BullMQ's own.
-- Stores each job whose id is new as BullMQ's moveToActive leaves a job (the hash storeJob
-- writes, processedOn, one attempt started, locked by the token) and puts it on the active list,
-- so BullMQ's stalled check takes it over if this process dies. Replies one flag per job: 1 added
-- and locked, 0 the id exists already (a re-dispatch: BullMQ has it, as `addStandardJob` would say).
local prefix = ARGV[1]
local added = {}
for i = 6, #ARGV, 4 do
  local id = ARGV[i]
  local key = prefix .. id
  if redis.call('EXISTS', key) == 1 then
    added[#added + 1] = 0
  else
    redis.call('HSET', key, 'name', ARGV[i + 1], 'data', ARGV[i + 2], 'opts', ARGV[i + 3],
      'timestamp', ARGV[4], 'delay', 0, 'priority', 0, 'processedOn', ARGV[4], 'ats', 1)
    if ARGV[5] ~= '' then redis.call('HSET', key, 'pb', ARGV[5]) end
    redis.call('SET', key .. ':lock', ARGV[3], 'PX', ARGV[2])
    redis.call('LPUSH', KEYS[1], id)
    added[#added + 1] = 1
  end
end
return added
