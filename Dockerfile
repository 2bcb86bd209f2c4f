# syntax=docker/dockerfile:1
# The coder-git image: the CLI with git, ssh and terraform, run as an unprivileged user under tini.
#   docker build -t coder-git .
#   docker run -e CODER_GIT_POSTGRES_URL=postgres://… -p 3000:3000 coder-git              # server
#   docker run -e CODER_GIT_POSTGRES_URL=postgres://… coder-git runner --repo https://…   # runner
# See "Deployment" in README.md. deploy/helm/coder-git runs this image on Kubernetes.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /opt/coder-git
COPY package.json package-lock.json ./
COPY scripts/ scripts/
COPY bin/ bin/
COPY src/ src/
COPY agent/ agent/
COPY runner/ runner/
COPY schemas/ schemas/
COPY templates/ templates/
COPY ci/ ci/
# `prepare` bundles dist/coder-git.mjs with the build tools (dev dependencies), which are then
# dropped: the bundle needs only the few runtime dependencies. ssh2's optional native speed-up may
# fail to build here (no compiler in the slim image), which it tolerates.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund && node bin/coder-git.js --version

FROM node:${NODE_VERSION}-bookworm-slim
ARG TERRAFORM_VERSION=1.11.4
ARG TARGETARCH=amd64
# terraform from HashiCorp's releases, checked against the published SHA256SUMS.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates git openssh-client tini curl unzip; \
    cd /tmp; \
    base="https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}"; \
    zip="terraform_${TERRAFORM_VERSION}_linux_${TARGETARCH}.zip"; \
    curl -fsSLO "${base}/${zip}"; \
    curl -fsSL "${base}/terraform_${TERRAFORM_VERSION}_SHA256SUMS" | grep " ${zip}\$" | sha256sum -c -; \
    unzip -q "${zip}" terraform -d /usr/local/bin; \
    rm -f "${zip}"; \
    apt-get purge -y curl unzip; \
    apt-get autoremove -y; \
    rm -rf /var/lib/apt/lists/*; \
    terraform version
COPY --from=build /opt/coder-git /opt/coder-git
RUN ln -s /opt/coder-git/bin/coder-git.js /usr/local/bin/coder-git \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/coder-git --create-home coder-git
USER 10001:10001
ENV CODER_GIT_DATA_DIR=/var/lib/coder-git \
    CODER_GIT_LISTEN=0.0.0.0:3000 \
    NODE_ENV=production
WORKDIR /var/lib/coder-git
VOLUME ["/var/lib/coder-git"]
EXPOSE 3000
# tini reaps terraform's and git's children and passes SIGTERM on, so shutdown is graceful.
ENTRYPOINT ["tini", "--", "coder-git"]
CMD ["server"]
