# syntax=docker/dockerfile:1
# Three build stages (browser bundles, TypeScript, baked model) and a slim runtime with production dependencies only.

# ---- the widget and agent console bundles: esbuild is a development tool, not part of the runtime image
FROM node:20-bookworm-slim AS bundles
WORKDIR /build
RUN npm init -y >/dev/null && npm install --no-audit --no-fund esbuild@0.28.2
COPY scripts/build-widget.mjs scripts/build-console.mjs ./scripts/
COPY widget ./widget
COPY agent-console ./agent-console
RUN node scripts/build-widget.mjs --force && node scripts/build-console.mjs --force

# ---- TypeScript compiled to dist/ (esbuild, file by file, same module layout as src/, so paths relative to a module still hold);
# the build also writes the analytics page with its chart.js bundle into dist/analytics/page (scripts/build-analytics.mjs)
FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build-analytics.mjs ./scripts/
COPY src ./src
RUN npm run build

# ---- the embedding model: only the directory named by EMBEDDING_MODEL_DIR, checked for its tokenizer files
FROM node:20-bookworm-slim AS model
ARG EMBEDDING_MODEL_DIR=""
COPY models /models
RUN mkdir -p /out/model && if [ -n "$EMBEDDING_MODEL_DIR" ]; then \
      src="/${EMBEDDING_MODEL_DIR}"; \
      for f in config.json tokenizer.json tokenizer_config.json; do \
        [ -f "$src/$f" ] || { echo "EMBEDDING_MODEL_DIR=$EMBEDDING_MODEL_DIR lacks $f" >&2; exit 1; }; done; \
      cp -r "$src"/. /out/model/; \
    fi

# ---- runtime
FROM node:20-bookworm-slim
ARG EMBEDDING_MODEL_DIR=""
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /build/dist ./dist
COPY knowledge ./knowledge
COPY flows ./flows
COPY widget/demo ./widget/demo
COPY --from=bundles /build/widget/dist ./widget/dist
COPY agent-console/index.html agent-console/console.css ./agent-console/
COPY --from=bundles /build/agent-console/dist ./agent-console/dist
COPY --from=model /out/model ./model
# Set only when a model was baked in; otherwise the assistant runs lexical-only.
ENV EMBEDDING_MODEL=${EMBEDDING_MODEL_DIR:+/app/model}
# Every path the server writes is under the volume (/app belongs to root; the handoff's SQLite default is ./.data).
ENV DATA_DIR=/data HANDOFF_DATA_DIR=/data EMBEDDING_CACHE_DIR=/data/embeddings PORT=3000 HOST=0.0.0.0
RUN mkdir -p /data && chown node:node /data
VOLUME /data
EXPOSE 3000
USER node
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM goes straight to node (no npm or shell in between), so the graceful shutdown runs.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
