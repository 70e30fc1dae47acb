# The production image: `docker build -t renovation-agent-backend .`
# Build stage: full install and scripts/build-artifact.sh (the same script the test suite
# runs, so this recipe is tested without Docker). Runtime stage: the artifact only, as
# the unprivileged `node` user; node is PID 1 and handles SIGTERM itself (graceful
# shutdown within SHUTDOWN_TIMEOUT_MS, default 10 s: keep `docker stop -t` above it).
# The worker is the same image: `docker run … node backend/dist/worker.js`.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc .nvmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY backend/src ./backend/src
COPY backend/drizzle ./backend/drizzle
COPY scripts ./scripts
RUN scripts/build-artifact.sh /app

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# owned by root, read-only for the app user: the process cannot rewrite its own code
COPY --from=build /app ./
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "backend/dist/server.js"]
