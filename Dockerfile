# The widget bundle is built in its own stage: esbuild is a development tool, not part of the runtime image.
FROM node:20-bookworm-slim AS widget
WORKDIR /build
RUN npm init -y >/dev/null && npm install --no-audit --no-fund esbuild@0.28.2
COPY scripts/build-widget.mjs ./scripts/
COPY widget ./widget
RUN node scripts/build-widget.mjs --force

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save tsx
COPY src ./src
COPY knowledge ./knowledge
COPY flows ./flows
COPY tsconfig.json ./
COPY widget/demo ./widget/demo
COPY --from=widget /build/widget/dist ./widget/dist
EXPOSE 3000
USER node
CMD ["npx", "tsx", "src/main.ts"]
