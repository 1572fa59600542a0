-- POST /api/send as the seed's scripts/wrk-send.lua: chat "random1:a2", sender "a2",
-- text "random number N" with a fresh N per request.
--   wrk -t6 -c100 -d30s -s bench/wrk/wrk-send.lua http://127.0.0.1:8080
-- (the server needs PARLEY_SEED_API=open)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local body = string.format(
    '{"chat":"random1:a2","text":"random number %d","sender":"a2"}',
    math.random(1, 1000000000)
  )
  return wrk.format("POST", "/api/send", nil, body)
end
