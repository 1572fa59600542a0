# Parley: one image for both shapes. Without PARLEY_DATABASE_URL it is the embedded server with
# its SQLite file (and attachments) in /data; with PARLEY_DATABASE_URL and PARLEY_REDIS_URL it is
# a cluster node, which needs PARLEY_BLOB_STORE=s3 or a shared /data (docs/deploy.md).
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 and argon2 build from source where no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
COPY web ./web
COPY scripts/build.mjs ./scripts/
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production PARLEY_DATA_DIR=/data PARLEY_HOST=0.0.0.0 PARLEY_PORT=8080
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY --from=build /app/package.json ./package.json
COPY proto ./proto
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 7070
# Liveness on whatever port PARLEY_PORT names (empty means the default, as for the server). The
# slim image has no curl; node's fetch does. /healthz, not /readyz: a Redis outage makes a node
# not ready for a while, which is the load balancer's business, not a reason to call it broken.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PARLEY_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM drains: clients are told to reconnect elsewhere (1012), in-flight commits finish.
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.js", "serve"]
