-- KEYS: lease, cursor. ARGV: token, new id. Returns -1 (lease lost), 0 (not newer) or 1.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local cur = redis.call('GET', KEYS[2])
if cur then
  local cms, cseq = string.match(cur, '^(%d+)-(%d+)$')
  local nms, nseq = string.match(ARGV[2], '^(%d+)-(%d+)$')
  if cms and nms then
    cms, cseq, nms, nseq = tonumber(cms), tonumber(cseq), tonumber(nms), tonumber(nseq)
    if nms < cms or (nms == cms and nseq <= cseq) then return 0 end
  end
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
