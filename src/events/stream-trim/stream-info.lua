-- `XINFO STREAM`, or nil for a missing stream. In a script because the client cannot find the
-- key of `XINFO` (a subcommand's argument) to route it: a Cluster would send it to any node
-- and get MOVED back.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('XINFO', 'STREAM', KEYS[1])
