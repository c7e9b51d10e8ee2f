FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save tsx
COPY src ./src
COPY knowledge ./knowledge
COPY flows ./flows
COPY tsconfig.json ./
ENV DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
VOLUME /data
EXPOSE 3000
USER node
CMD ["npx", "tsx", "src/main.ts"]
