# syntax=docker/dockerfile:1
#
# Hermod's container image: three stages, so the runtime image holds the bundled
# JavaScript (scripts/build.ts: esbuild, @kubernetes/client-node bundled in, see
# docs/adr/0008) and the production dependencies, and nothing else (no compiler, no npm,
# no shell, no dev dependencies).
#
#   docker build -t hermod:dev .
#   docker run --rm -e SLACK_TOKEN=xoxb-... hermod:dev --help
#
# Behind a mirror or an intercepting proxy (see docs/deploying.md, building the image):
#   --build-arg BUILD_IMAGE=mirror.example/node:22-bookworm-slim
#   --build-arg RUNTIME_IMAGE=mirror.example/distroless/nodejs22-debian12:nonroot
#   --build-arg NPM_REGISTRY=https://npm.mirror.example/
#   --secret id=npm_ca,src=/path/to/proxy-ca.pem    (trusted by npm, never stored in a layer)
#
# scripts/image-build.sh builds it with buildah from local Debian-made bases, and
# test/integration/image.test.ts runs the result; test/unit/packaging.test.ts checks its structure.

ARG NODE_MAJOR=22
# The bases: any image with node and npm on PATH and a shell (build), and any image with
# node at /nodejs/bin/node and a uid 65532 (runtime), as distroless has it.
ARG BUILD_IMAGE=node:${NODE_MAJOR}-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot

# --- build: all dependencies, TypeScript bundled to dist/ by esbuild ----------------------
FROM ${BUILD_IMAGE} AS build
ARG NPM_REGISTRY=https://registry.npmjs.org/
WORKDIR /app
COPY package.json package-lock.json ./
# The npm_ca secret, when given, is added to Node's trusted CAs for npm only (an
# intercepting proxy's CA); it is mounted for this step and is in no layer.
RUN --mount=type=secret,id=npm_ca,required=false \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --no-audit --no-fund --registry="$NPM_REGISTRY"
COPY tsconfig.json ./
COPY scripts/build.ts scripts/clientNodeSlim.ts scripts/undiciSlim.ts scripts/lazyExports.ts ./scripts/
COPY src ./src
RUN npm run build

# --- prod-deps: production dependencies only ----------------------------------------------
# No production dependency has an install script, so --ignore-scripts costs nothing and
# keeps a compromised package from running code at build time.
FROM ${BUILD_IMAGE} AS prod-deps
ARG NPM_REGISTRY=https://registry.npmjs.org/
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca,required=false \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --registry="$NPM_REGISTRY" && npm cache clean --force

# --- runtime: distroless Node.js, non-root -----------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# A 1 MiB young generation (V8's default is 16 MiB per semi-space): Hermod's garbage is many
# short-lived JSON objects, and with the default V8 lets the young generation grow far before
# collecting, which showed as 10-20 MB more RSS at sync (docs/adr/0007, "No typed API in
# `hermod run`", measured with bench:cluster --node-flags). In NODE_OPTIONS, not the entrypoint,
# so a Pod's own NODE_OPTIONS replaces it.
ENV NODE_OPTIONS=--max-semi-space-size=1
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json carries "type": "module": without it Node would load dist/ as CommonJS.
COPY package.json ./
# distroless "nonroot" is uid/gid 65532; numeric so runAsNonRoot can verify it.
USER 65532:65532
# /metrics, /livez, /readyz
EXPOSE 2112
# OCI annotations (https://specs.opencontainers.org/image-spec/annotations/). Last, so a
# new revision rebuilds only this layer.
ARG RUNTIME_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="hermod" \
      org.opencontainers.image.description="Kubernetes rollout notifier for Slack: one message per rollout, updated in place, failures explained." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"
# node itself is PID 1 (not npm, not a shell), so SIGTERM reaches Hermod's handler.
# The absolute path: distroless does not put /nodejs/bin on PATH.
# --max-opt=2: V8 optimises no further than Maglev. TurboFan's compilations during the sync cost
# about 0.1 s of CPU and 8 MB of RSS, and Hermod's steady work is small (docs/adr/0007, "Start-up
# CPU", measured with bench:cluster). NODE_OPTIONS cannot carry it (Node refuses V8 flags there
# but a few), hence here. Source maps are turned on by Hermod itself when SENTRY_ENDPOINT is set
# (src/io/commands/cli.ts); NODE_OPTIONS=--enable-source-maps turns them on always.
# --initial-old-space-size=32: V8's first old-generation limit at 32 MB, past the heap of a sync
# (about 20 MB at 5,000 Deployments), so the start runs no full collection: about 0.03 s of CPU
# for 5 MB of RSS (docs/adr/0007, "Idle without a clock"). NODE_OPTIONS refuses it too.
# --no-memory-reducer-for-small-heaps: V8 then skips the heap shrink it schedules 8 s after a
# start that ran no full collection (0.1 s of CPU in the first idle minutes, for about 12 MB);
# after later busy spells the memory reducer works as usual (same ADR section).
ENTRYPOINT ["/nodejs/bin/node", "--max-opt=2", "--initial-old-space-size=32", "--no-memory-reducer-for-small-heaps", "dist/src/io/commands/cli.js"]
CMD ["run"]
