"""The Lua scripts of `quotas.QuotaBook`: each runs in Redis as one step, so checking every
limit and taking a unit of each can never interleave with another bot process's."""

from __future__ import annotations

# KEYS: loaded marker, total, user's day, scope's day, user's pending, user's placeholders.
# ARGV: budget, pending limit, daily per user, daily per scope (-1: none), take (1/0),
#       placeholder, now, images (each counts against the daily limits; 0: none do).
RESERVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {5, 0} end
local now = tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - 300)
local budget = tonumber(ARGV[1])
local images = tonumber(ARGV[8])
local total = tonumber(redis.call('GET', KEYS[2]) or '0')
if budget >= 0 and images > 0 and total + images > budget then return {1, total} end
local pending = redis.call('ZCARD', KEYS[5]) + redis.call('ZCARD', KEYS[6])
if pending >= tonumber(ARGV[2]) then return {2, pending} end
if images > 0 then
  local used = tonumber(redis.call('GET', KEYS[3]) or '0')
  if used + images > tonumber(ARGV[3]) then return {3, used} end
  local per_scope = tonumber(ARGV[4])
  local scope_used = tonumber(redis.call('GET', KEYS[4]) or '0')
  if per_scope >= 0 and scope_used + images > per_scope then return {4, scope_used} end
end
if ARGV[5] == '1' then
  for i = 2, 4 do
    redis.call('INCRBY', KEYS[i], images)
    redis.call('EXPIRE', KEYS[i], 172800)
  end
  redis.call('ZADD', KEYS[6], now, ARGV[6])
  redis.call('EXPIRE', KEYS[6], 172800)
end
return {0, 0}
"""

# KEYS: owners hash. ARGV: generation id, key prefix of pending sets.
SETTLE = """
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if not owner then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return redis.call('ZREM', ARGV[2] .. owner, ARGV[1])
"""
