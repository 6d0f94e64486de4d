-- wrk script: one event per request at a fixed offered rate, with latency measured from when
-- each request was due, not when it was sent: a stalled answer delays the requests behind it,
-- and that wait counts (no coordinated omission). Each thread keeps its own schedule and writes
-- "eventId latency_us" for every answer 202 to a file of its own.
-- Arguments (after --): path, events per second (all threads), template file, API key, output
-- prefix, run tag, wrk threads.

local ffi = require("ffi")
ffi.cdef([[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("wrk_common")
setup = common.setup

function init(args)
  path = args[1]
  prefix, suffix, headers, latency_file, tag = common.read_args(args, thread_id)
  rate_per_thread = tonumber(args[2]) / tonumber(args[7])
  interval_us = 1000000 / rate_per_thread
  sent = 0
  slots_claimed = 0
  due = {} -- slots claimed by delay(), taken by the requests in order
  first_due, next_due = 1, 1
  due_of = {} -- eventId -> when its request was due
end

function delay()
  local now = now_us()
  start_us = start_us or now
  local slot = start_us + slots_claimed * interval_us
  slots_claimed = slots_claimed + 1
  due[next_due] = slot
  next_due = next_due + 1
  return math.max(0, math.ceil((slot - now) / 1000))
end

function request()
  local slot = due[first_due]
  if slot then
    due[first_due] = nil
    first_due = first_due + 1
  else
    slot = now_us()
  end
  sent = sent + 1
  local id = tag .. sent
  due_of[id] = slot
  return wrk.format("POST", path, headers, prefix .. id .. suffix)
end

function response(status, headers, body)
  if status ~= 202 then
    return
  end
  local id = body:match('"eventId":"([^"]+)"')
  local slot = due_of[id]
  if slot then
    due_of[id] = nil
    latency_file:write(id, " ", math.floor(now_us() - slot), "\n")
  end
end

function done(summary, latency, requests)
  common.summary(summary, latency)
end
