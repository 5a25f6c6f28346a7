# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies, then keep production dependencies only.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency only pins Node 24 for npm scripts on hosts; the image already is Node 24.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY probes ./probes
COPY lab ./lab
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config/example.yaml /etc/suiteprobe/config.yaml
USER node
EXPOSE 10587
# The agent handles SIGTERM itself (aborts probes, closes the server, exits 0): no init wrapper needed.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:10587/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["run", "--config", "/etc/suiteprobe/config.yaml"]
