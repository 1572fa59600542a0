-- GET /api/pull with a JSON body, as the seed's scripts/wrk-pull.lua: chat "a1:a2", cursor 0,
-- limit 10. Put a few messages in a1:a2 first (POST /api/send).
--   wrk -t6 -c100 -d30s -s bench/wrk/wrk-pull.lua http://127.0.0.1:8080
wrk.method = "GET"
wrk.path = "/api/pull"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"chat":"a1:a2","cursor":0,"limit":10}'
