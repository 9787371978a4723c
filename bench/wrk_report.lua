-- Driven by bench/wrk.py. Arguments after "--":
--   method, path template, lowest id, highest id, body template ("" for none), headers...
-- "{id}" in the path and body becomes a random id of the range on every request, so the
-- run reads rows spread over the table instead of one hot row. A lowest id of "@path" names
-- a file of ids, one a line, drawn from instead (the highest id is then "").
-- Each thread counts responses by status class; done() adds them up and prints one JSON
-- line that bench/wrk.py parses (wrk itself only counts statuses above 399).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  method = args[1]
  path_template = args[2]
  if string.sub(args[3], 1, 1) == "@" then
    id_list = {}
    for line in io.lines(string.sub(args[3], 2)) do
      if line ~= "" then table.insert(id_list, line) end
    end
  else
    id_low = tonumber(args[3])
    id_high = tonumber(args[4])
  end
  if args[5] ~= nil and args[5] ~= "" then body_template = args[5] end
  headers = {}
  for i = 6, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  ok_2xx = 0
  non_2xx = 0
  -- Each thread its own sequence; the same one on every run, so runs are comparable.
  math.randomseed(7919 * thread_number)
end

local function with_id(template, id)
  if template == nil then return nil end
  return (string.gsub(template, "{id}", id))
end

function request()
  local id = ""
  if id_list ~= nil then
    id = id_list[math.random(#id_list)]
  elseif id_low ~= nil then
    id = tostring(math.random(id_low, id_high))
  end
  return wrk.format(method, with_id(path_template, id), headers, with_id(body_template, id))
end

function response(status, response_headers, body)
  if status >= 200 and status < 300 then
    ok_2xx = ok_2xx + 1
  else
    non_2xx = non_2xx + 1
  end
end

function done(summary, latency, requests)
  local ok, non = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("ok_2xx")
    non = non + thread:get("non_2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'wrk-result {"duration_us": %d, "requests": %d, "ok_2xx": %d, "non_2xx": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.duration, summary.requests, ok, non,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50.0), latency:percentile(95.0), latency:percentile(99.0)))
end
