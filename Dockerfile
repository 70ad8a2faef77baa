# syntax=docker/dockerfile:1
#
# The Zendesk integration worker's image: one image, two processes.
# Node 24 LTS: the production runtime (Node 20 reached end of life on 2026-04-30). package.json's engines and
# .ci/run say which versions are tested; a test checks the image, .ci/run and the README agree.
#   API (default):  node dist/src/api-server.js     (PORT, default 3000; /metrics and /readyz on INTERNAL_PORT, default 9463)
#   worker:         node --max-old-space-size=128 dist/src/worker.js   (metrics/health on METRICS_PORT, default 9464)
#                   The V8 heap cap as in `npm run start:worker` (WORKER_HEAP_MB there and in docker-compose.yml):
#                   set it wherever the worker is started; give the container at least the cap + 256 MB.
#   migrations:     node dist/src/db/migrate-cli.js
#   Temporal setup: node dist/src/temporal/setup-cli.js   (namespace + search attributes, idempotent)
# Configured by environment only (src/config.ts); see docker-compose.yml for a complete example.

# ---- build: compile TypeScript and prebuild the workflow bundle --------------------------------------
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
# tsc → dist/, then scripts/bundle-workflows.ts bundles dist/src/workflows/index.js → dist/workflow-bundle.js,
# so workers start without webpack (createWorker loads the prebuilt bundle when it exists).
RUN npm run build \
 && test -s dist/workflow-bundle.js \
 && test -f dist/src/api-server.js \
 && test -f dist/src/worker.js

# ---- runtime: production dependencies and compiled code only, as the unprivileged node user ----------
FROM node:24.22.3-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The prebuilt bundle is part of dist/; named here so a change to the layout fails the build, not a worker start.
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
USER node
EXPOSE 3000 9463 9464
CMD ["node", "dist/src/api-server.js"]
