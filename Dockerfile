# The production HTTP server of `front=service` (lib/constructs/service.ts builds this as a CDK image asset;
# Docker is needed only by `cdk deploy`). Two stages: the build stage bundles the server with lib/bundling.ts —
# the esbuild settings of the Lambda functions — and the runtime stage carries only that bundle.

# Bundling is platform-independent JavaScript: run it on the builder's own platform, even for an arm64 image.
FROM --platform=$BUILDPLATFORM node:22-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY lib/bundling.ts lib/bundling.ts
COPY lambdas lambdas
RUN npx tsx lib/bundling.ts server lambdas/server/main.ts dist/server/main.mjs

# Node.js 22: the runtime the bundle is built for (esbuild target node22, as the functions on nodejs22.x).
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    PORT=8080
WORKDIR /app
COPY --from=build --chown=root:root /build/dist/server/ ./
# The image's own user without a login shell or write access to the code.
USER node
EXPOSE 8080
# Liveness only (no Redis): readiness is the load balancer's health check on /readyz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "main.mjs"]
