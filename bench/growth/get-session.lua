-- wrk script: GET /api/auth/get-session with `Authorization: Bearer <token>`, the token picked at
-- random for every request from a file of session tokens (one per line).
-- Usage: wrk ... -s get-session.lua URL/api/auth/get-session -- TOKEN_FILE
-- A 200 whose body is not a session object (Better Auth answers `null` for an unknown token) is
-- counted and reported by done() as "GROWTH_NO_SESSION n"; wrk reports non-2xx answers itself.

local tokens = {}
local count = 0
no_session = 0  -- a global: done() reads it from each thread with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  if not path then error("get-session.lua: pass the token file after --") end
  for line in io.lines(path) do
    if #line > 0 then
      count = count + 1
      tokens[count] = line
    end
  end
  if count == 0 then error("get-session.lua: no tokens in " .. path) end
  -- each thread gets its own seed (threads are initialised one after another)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6) + count)
  wrk.method = "GET"
end

function request()
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tokens[math.random(count)] })
end

function response(status, headers, body)
  if status == 200 and string.sub(body, 1, 11) ~= '{"session":' then
    no_session = no_session + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + (t:get("no_session") or 0)
  end
  io.write(string.format("GROWTH_NO_SESSION %d\n", total))
end
