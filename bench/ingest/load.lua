-- wrk script: every request carries events with fresh eventIds (one, or a batch of them).
-- The ids an answer 202 accepted are written to one file per thread, so the benchmark can check
-- that each landed in Kafka exactly once.
-- Arguments (after --): path, events per request, template file (an event whose eventId is
-- __EVENT_ID__), API key, output prefix, run tag.

package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("wrk_common")
setup = common.setup

function init(args)
  path = args[1]
  per_request = tonumber(args[2])
  prefix, suffix, headers, accepted_file, tag = common.read_args(args, thread_id)
  sent = 0
end

function request()
  local body
  if per_request == 1 then
    sent = sent + 1
    body = prefix .. tag .. sent .. suffix
  else
    local events = {}
    for i = 1, per_request do
      sent = sent + 1
      events[i] = prefix .. tag .. sent .. suffix
    end
    body = '{"events":[' .. table.concat(events, ",") .. "]}"
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status ~= 202 then
    return
  end
  if per_request == 1 then
    accepted_file:write(body:match('"eventId":"([^"]+)"'), "\n")
  else
    for id in body:match('"accepted":%[([^%]]*)%]'):gmatch('"([^"]+)"') do
      accepted_file:write(id, "\n")
    end
  end
end

function done(summary, latency, requests)
  common.summary(summary, latency)
end
