# syntax=docker/dockerfile:1
#
# The gateway's one image: every role (GATEWAY_ROLE=api|worker|all) runs it. Three stages:
#   build  - all dependencies (`npm ci`), TypeScript compiled to dist/
#   deps   - production dependencies only (`npm ci --omit=dev`)
#   runtime- node, the compiled code and the production node_modules; nothing else
# Checked statically by test/unit/dockerfile.test.ts (no Docker engine runs in CI).

# Pin a digest (node:24-bookworm-slim@sha256:...) in release builds for reproducible images.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused while only the source changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="rocketchat-realtime-gateway" \
      org.opencontainers.image.description="Rocket.Chat realtime events as SSE and signed webhooks, and REST sending"
# MALLOC_ARENA_MAX: glibc's malloc keeps up to 8 arenas per core, and memory freed in one is not
# reused by another; with 10,000 idle SSE streams that was ~100 MiB of a 450 MiB process
# (bench/RESULTS.md). Fewer arenas only mean more contention between allocating threads, and the
# gateway's JavaScript runs on one (V8's and libuv's helper threads allocate beside it).
ENV NODE_ENV=production \
    PORT=3000 \
    MALLOC_ARENA_MAX=2
WORKDIR /app
# Owned by root and not writable by the process: the code cannot be changed at run time, and
# the root filesystem can be mounted read-only (the gateway writes nothing to disk; logs go to
# stdout).
COPY --from=deps /app/node_modules ./node_modules
# dist/src holds the Redis scripts (.lua) too: `npm run build` copies them beside their modules.
COPY --from=build /app/dist/src ./dist/src
# tsc copies no assets: the browser console (CONSOLE_ENABLED) finds its files back in
# src/console/static, relative to dist/src/console (src/console/console-router.ts).
COPY --from=build /app/src/console/static ./src/console/static
COPY package.json ./
# The image's unprivileged `node` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000 9090
# /healthz answers whenever the process serves HTTP and never depends on Redis (liveness).
# Docker and Compose use this; Kubernetes uses the probes in the Helm chart instead.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# Exec form, so node is PID 1 and receives SIGTERM itself (a shell or `npm start` in between
# would swallow it and the drain would never run). src/main.ts handles SIGTERM and SIGINT, and
# the gateway starts no child processes, so there are no zombies to reap and no init is needed.
CMD ["node", "dist/src/main.js"]
