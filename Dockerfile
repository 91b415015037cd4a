# The controller image for a cabinet PC (x86_64 or arm64): the compiled daemon (npm run build),
# as the systemd units run it. Native addons (serialport, epoll) and the TypeScript build happen in
# the build stage; the image keeps production dependencies only.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY hardware ./hardware
COPY migrations ./migrations
COPY config ./config
RUN npm run build && npm prune --omit=dev && rm -rf src hardware dist/.tsbuildinfo

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
COPY --from=build /app /app
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>r.json()).then(h=>process.exit(h.db==='ok'&&h.bus!=='down'?0:1)).catch(()=>process.exit(1))"
CMD ["node", "--max-semi-space-size=2", "dist/src/main.js"]
