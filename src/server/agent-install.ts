// The agent, delivered by the server into any workspace (README: The agent in any workspace). A
// workspace's image needs only sh, curl or wget, gunzip and sha256sum (busybox's count) and glibc:
//   GET /api/v1/agent/install.sh                    the script; no secret in it (the token comes
//                                                   from the workspace's environment)
//   GET /api/v1/agent/files/agent-<version>.cjs.gz  coder-git's agent, one file (dist/agent.cjs)
//   GET /api/v1/agent/files/node-<sha>-linux-<arch>.gz
//                                                   the Node runtime it runs on: this server's own
//                                                   binary for its architecture, or the one named by
//                                                   CODER_GIT_AGENT_NODE_<ARCH> for another
// The script checks both downloads against SHA-256 sums it carries, keeps them in the workspace
// (a restart of the same version downloads nothing) and runs the agent; when the agent exits 75
// (the server runs another version now), it runs the server's install.sh again.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { pkgPath } from '../paths.ts';
import { VERSION } from '../version.ts';
import { INSTALL_SCRIPT_PATH } from '../terraform/contract.ts';
import { shellQuote as q } from '../shell.ts';

export const INSTALL_PATH = INSTALL_SCRIPT_PATH;
const FILES_PATH = '/api/v1/agent/files';
/** What install.sh knows as an architecture, and Node's name for it. */
const ARCHES = { x86_64: 'x64', aarch64: 'arm64' } as const;
type NodeArch = (typeof ARCHES)[keyof typeof ARCHES];

interface Artifact {
  name: string;
  sha256: string;
  /** the gzip-compressed file, made on first use */
  gz(): Promise<string | Buffer>;
}

/** The agent bundle of this version, or why there is none (a checkout that was never built). */
function agentArtifact(): Artifact | string {
  const file = pkgPath('dist', 'agent.cjs');
  if (!existsSync(file)) return `this coder-git has no agent bundle (${file}); build it with \`npm run build\``;
  const bytes = readFileSync(file);
  let gz: Buffer | undefined;
  return { name: `agent-${VERSION}.cjs.gz`, sha256: sha256(bytes), gz: async () => (gz ??= gzipSync(bytes, { level: 9 })) };
}

function nodeBinaryFor(arch: NodeArch): string | undefined {
  const named = process.env[`CODER_GIT_AGENT_NODE_${arch.toUpperCase()}`];
  if (named) return named;
  return process.platform === 'linux' && process.arch === arch ? process.execPath : undefined;
}

/** A Node binary, hashed and compressed once per server process into a cache folder. */
async function nodeArtifact(arch: NodeArch, binary: string): Promise<Artifact> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(binary), hash);
  const sum = hash.digest('hex');
  const name = `node-${sum.slice(0, 16)}-linux-${arch}.gz`;
  const cacheDir = path.join(os.tmpdir(), `coder-git-agent-files-${process.getuid?.() ?? 'u'}`);
  const file = path.join(cacheDir, name);
  let making: Promise<string> | undefined;
  return {
    name,
    sha256: sum,
    gz: () => {
      making ??= (async () => {
        if (existsSync(file)) return file;
        await fsp.mkdir(cacheDir, { recursive: true, mode: 0o700 });
        const tmp = `${file}.${process.pid}.tmp`;
        await pipeline(createReadStream(binary), createGzip({ level: 6 }), createWriteStream(tmp, { mode: 0o644 }));
        await fsp.rename(tmp, file);
        return file;
      })();
      making.catch(() => (making = undefined)); // (a full disk, say) tried again next time
      return making;
    },
  };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export async function agentInstallRoutes(app: FastifyInstance): Promise<void> {
  // Read and hashed on first use, not when the server is built.
  let agentMemo: Artifact | string | undefined;
  const agent = () => (agentMemo ??= agentArtifact());
  const nodes = new Map<NodeArch, Promise<Artifact>>();
  const node = (arch: NodeArch) => {
    const binary = nodeBinaryFor(arch);
    if (!binary) return undefined;
    if (!nodes.has(arch)) {
      const made = nodeArtifact(arch, binary);
      made.catch(() => nodes.delete(arch)); // an unreadable binary is tried again on the next request
      nodes.set(arch, made);
    }
    return nodes.get(arch)!;
  };

  app.get(INSTALL_PATH, async (_req, reply) => {
    const runtimes: Record<string, Artifact | undefined> = {};
    for (const [uname, arch] of Object.entries(ARCHES)) runtimes[uname] = await node(arch);
    const script = installScript({ agent: agent(), runtimes });
    return reply.type('text/x-shellscript; charset=utf-8').header('cache-control', 'no-store').send(script);
  });

  app.get(`${FILES_PATH}/:name`, async (req, reply) => {
    const { name } = req.params as { name: string };
    const a = agent();
    const all = [typeof a === 'string' ? undefined : a, ...(await Promise.all((Object.values(ARCHES) as NodeArch[]).map((a) => node(a))))];
    const hit = all.find((a) => a?.name === name);
    if (!hit) return reply.code(404).send({ error: { code: 'not_found', message: `no agent file ${name}; install.sh names the files of this server's version` } });
    const gz = await hit.gz();
    reply.type('application/gzip').header('cache-control', 'public, max-age=31536000, immutable');
    return typeof gz === 'string' ? reply.send(createReadStream(gz)) : reply.send(gz);
  });
}


/** The POSIX sh script. Every failure says what is missing, on stderr, which the build or startup log keeps. */
export function installScript(o: { agent: Artifact | string; runtimes: Record<string, Artifact | undefined> }): string {
  const runtime = (uname: string) => o.runtimes[uname];
  const agentLine = typeof o.agent === 'string' ? `fail ${q(`the server cannot deliver the agent: ${o.agent}`)}` : `AGENT_FILE=${q(o.agent.name)}; AGENT_SHA256=${o.agent.sha256}`;
  const archCases = Object.keys(ARCHES)
    .map((u) => {
      const r = runtime(u);
      return r
        ? `  ${u === 'x86_64' ? 'x86_64|amd64' : 'aarch64|arm64'}) NODE_FILE=${q(r.name)}; NODE_SHA256=${r.sha256} ;;`
        : `  ${u === 'x86_64' ? 'x86_64|amd64' : 'aarch64|arm64'}) fail "this server has no agent runtime for ${u}: set CODER_GIT_AGENT_NODE_${ARCHES[u as keyof typeof ARCHES].toUpperCase()} on the server to a Node 20+ binary for linux-${ARCHES[u as keyof typeof ARCHES]}" ;;`;
    })
    .join('\n');
  return `#!/bin/sh
# coder-git agent installer, served by the coder-git server (version ${VERSION}). It holds no secret:
# the agent's token comes from the workspace's environment (CODER_AGENT_TOKEN).
# Needs: sh, curl or wget, gunzip, sha256sum, glibc on x86_64 or aarch64.
set -u
fail() { echo "coder-git agent: $*" >&2; exit 1; }
[ -n "\${CODER_AGENT_TOKEN:-}" ] || fail "CODER_AGENT_TOKEN is not set: the template must pass its agent token into the workspace"
CODER_AGENT_URL="\${CODER_AGENT_URL:-}"
[ -n "$CODER_AGENT_URL" ] || fail "CODER_AGENT_URL is not set: the template must pass the server's URL into the workspace"
export CODER_AGENT_URL CODER_AGENT_TOKEN
# the files come from where the agent connects to (the server's URL as the workspace reaches it)
BASE="\${CODER_AGENT_URL%/}${FILES_PATH}"
VERSION=${q(VERSION)}
${agentLine}

[ "$(uname -s)" = Linux ] || fail "the agent runs on Linux; this is $(uname -s)"
case "$(uname -m)" in
${archCases}
  *) fail "the agent runs on x86_64 or aarch64; this is $(uname -m)" ;;
esac
if [ -e /lib/ld-musl-x86_64.so.1 ] || [ -e /lib/ld-musl-aarch64.so.1 ]; then
  ls /lib/ld-linux-* /lib64/ld-linux-* >/dev/null 2>&1 || fail "the agent's runtime needs glibc; this image has musl only (Alpine?): use a glibc image (Debian, Ubuntu, distroless/cc) or add the gcompat package"
fi
if command -v curl >/dev/null 2>&1; then get() { curl -fsSL "$1"; }
elif command -v wget >/dev/null 2>&1; then get() { wget -qO- "$1"; }
else fail "neither curl nor wget is installed: the image needs one of them (busybox's wget counts)"
fi
command -v gunzip >/dev/null 2>&1 || fail "gunzip is not installed (package gzip, or busybox)"
command -v sha256sum >/dev/null 2>&1 || fail "sha256sum is not installed (package coreutils, or busybox)"

CACHE="\${CODER_AGENT_CACHE_DIR:-\${XDG_CACHE_HOME:-\${HOME:-/tmp}/.cache}/coder-git-agent}"
mkdir -p "$CACHE" 2>/dev/null || { CACHE=/tmp/coder-git-agent-$(id -u); mkdir -p "$CACHE"; } || fail "cannot make a cache folder (tried $CACHE)"
# fetch FILE SHA256 MODE: the file from the server into the cache, unless it is there with its sum
fetch() {
  dest="$CACHE/\${1%.gz}"
  if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$2" ]; then return 0; fi
  tmp="$dest.$$"
  get "$BASE/$1" | gunzip > "$tmp" || { rm -f "$tmp"; fail "downloading $BASE/$1 failed"; }
  got=$(sha256sum "$tmp" | cut -d' ' -f1)
  [ "$got" = "$2" ] || { rm -f "$tmp"; fail "$1: checksum mismatch (expected $2, got $got): a proxy or the network changed it"; }
  chmod "$3" "$tmp" && mv -f "$tmp" "$dest"
}
fetch "$NODE_FILE" "$NODE_SHA256" 755
fetch "$AGENT_FILE" "$AGENT_SHA256" 644
NODE="$CACHE/\${NODE_FILE%.gz}"
err=$("$NODE" -e 0 2>&1) || fail "the agent's Node runtime does not run in this image: $err (it needs glibc and libstdc++)"
"$NODE" "$CACHE/\${AGENT_FILE%.gz}"
status=$?
if [ "$status" -eq 75 ]; then
  echo "coder-git agent: the server runs another version; installing it" >&2
  script=$(get "\${CODER_AGENT_URL%/}${INSTALL_PATH}") || fail "fetching the new install.sh failed"
  exec sh -c "$script"
fi
exit "$status"
`;
}
