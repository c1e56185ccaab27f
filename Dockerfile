# syntax=docker/dockerfile:1
#
# Hermod's container image: three stages, so the runtime image holds the compiled
# JavaScript and the production dependencies, and nothing else (no compiler, no npm,
# no shell, no dev dependencies).
#
#   docker build -t hermod:dev .
#   docker run --rm -e SLACK_TOKEN=xoxb-... hermod:dev --help
#
# test/unit/packaging.test.ts checks this file's structure, since no image is built in CI.

ARG NODE_MAJOR=22

# --- build: all dependencies, TypeScript compiled to dist/ ------------------------------
FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- prod-deps: production dependencies only ----------------------------------------------
# No production dependency has an install script, so --ignore-scripts costs nothing and
# keeps a compromised package from running code at build time.
FROM node:${NODE_MAJOR}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime: distroless Node.js, non-root -----------------------------------------------
FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json carries "type": "module": without it Node would load dist/ as CommonJS.
COPY package.json ./
# distroless "nonroot" is uid/gid 65532; numeric so runAsNonRoot can verify it.
USER 65532:65532
# /metrics, /livez, /readyz
EXPOSE 2112
# node itself is PID 1 (not npm, not a shell), so SIGTERM reaches Hermod's handler.
# The absolute path: distroless does not put /nodejs/bin on PATH.
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "dist/src/io/commands/cli.js"]
CMD ["run"]
