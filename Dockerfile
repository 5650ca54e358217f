# No `# syntax=` line: BuildKit would fetch its frontend image from a registry; the built-in frontend builds
# this file, and so does the legacy builder.
# One image for every Chainlog service and the CLI (the auditor also serves the explorer's static files).
# Each container runs one of them:
#   node services/<service>/dist/main.js      (ingest, miner, auditor, operator, cli)
# which is exactly what the Helm chart (charts/chainlog) and docker-compose.yml run. The default is ingest.
#
# The runtime stage has production dependencies and compiled JavaScript only, runs as the non-root user
# 10001 and never writes outside /tmp and its volumes, so it works with a read-only root filesystem.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------------
# build: every dependency (TypeScript included), then tsc -b over the workspaces
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Manifests first, so the npm ci layer is reused until a dependency changes.
COPY package.json package-lock.json ./
COPY services/core/package.json services/core/
COPY services/ingest/package.json services/ingest/
COPY services/miner/package.json services/miner/
COPY services/auditor/package.json services/auditor/
COPY services/operator/package.json services/operator/
COPY services/cli/package.json services/cli/
COPY services/explorer/package.json services/explorer/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY services/ services/
# The build half of `npm run build` (its second half type-checks tests and scripts, which CI does), and the
# explorer's static files, which the auditor serves at `/`.
RUN npx tsc -b tsconfig.build.json \
 && cd services/explorer && npx vite build

# ---------------------------------------------------------------------------------------------------
# runtime: production dependencies and the compiled services
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOME=/tmp \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
RUN groupadd --system --gid 10001 chainlog \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin chainlog
COPY package.json package-lock.json ./
COPY services/core/package.json services/core/
COPY services/ingest/package.json services/ingest/
COPY services/miner/package.json services/miner/
COPY services/auditor/package.json services/auditor/
COPY services/operator/package.json services/operator/
COPY services/cli/package.json services/cli/
COPY services/explorer/package.json services/explorer/
COPY services/cli/bin/ services/cli/bin/
# Workspaces are linked into node_modules/@chainlog/*; devDependencies (TypeScript, vitest, tsx) are left out.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && rm -rf /tmp/* /root/.npm
COPY --from=build /src/services/core/dist/ services/core/dist/
COPY --from=build /src/services/ingest/dist/ services/ingest/dist/
COPY --from=build /src/services/miner/dist/ services/miner/dist/
COPY --from=build /src/services/auditor/dist/ services/auditor/dist/
COPY --from=build /src/services/operator/dist/ services/operator/dist/
COPY --from=build /src/services/cli/dist/ services/cli/dist/
COPY --from=build /src/services/explorer/dist/ services/explorer/dist/
# Where docker-compose.yml's keys-init keeps the keys (one volume per directory): a fresh named volume takes the
# owner and mode of the image directory it is mounted on, so the service user, not root, writes the keys.
# The auditor's data directory (DATA_DIR in docker-compose.yml and the chart) likewise.
RUN mkdir -p /keys/miner-0 /keys/miner-1 /keys/client /keys/allowed /var/lib/chainlog/auditor \
 && chown -R 10001:10001 /keys /var/lib/chainlog \
 && chmod 0700 /keys/miner-0 /keys/miner-1 /keys/client \
 && chmod 0755 /keys /keys/allowed
# Root owns the application files; the service user can read them, not change them.
USER 10001:10001
EXPOSE 8080 8081 8082 8083
# Every HTTP service answers /healthz on HTTP_PORT (ingest 8080, miner 8081, auditor 8082); node has fetch,
# the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HTTP_PORT||8080}/healthz`).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node"]
CMD ["services/ingest/dist/main.js"]
