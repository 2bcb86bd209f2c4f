// JSON Schemas of what the API answers and accepts, for the OpenAPI document (/api/docs) and its
// tests, which check every real answer against them (additionalProperties: false, so a field added
// to an answer and not here fails a test rather than going undocumented).

type Schema = Record<string, unknown>;

const nullable = (s: Schema): Schema => ({ ...s, type: [s.type as string, 'null'] });
const str: Schema = { type: 'string' };
const time: Schema = { type: 'string', format: 'date-time' };
const uuid: Schema = { type: 'string', format: 'uuid' };
/** a bigint id, as a string (JSON numbers lose precision past 2^53) */
const bigId: Schema = { type: 'string', pattern: '^[0-9]+$' };
const int: Schema = { type: 'integer' };
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', required: Object.keys(properties), additionalProperties: false, properties, ...extra });
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const list = (s: Schema): Schema => ({ type: 'array', items: s });

const TRANSITIONS = ['start', 'stop', 'delete'];
const BUILD_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'canceled', 'interrupted'];
const BUILD_REASONS = ['sync', 'autostart', 'autostop', 'inactivity', 'drift', 'agent-lost', 'retry', 'manual'];
const LIFECYCLES = ['created', 'starting', 'ready', 'start_error', 'shutting_down', 'off'];
const SYNC_STATUSES = ['invalid', 'untrusted', 'applying', 'applied', 'failed', 'superseded'];
const STATES = ['running', 'stopped'];
const counts = obj({ create: int, update: int, delete: int });

export const SCHEMAS = {
  Error: obj({ error: obj({ code: { type: 'string', description: 'stable: unauthenticated, forbidden, not_found, bad_request, conflict, rate_limited, database_unavailable, …' }, message: { type: 'string', description: 'for people: what is wrong and what would be right' } }) }),
  GitSshKey: obj({ public_key: { type: 'string', description: 'one OpenSSH line: ssh-ed25519 AAAA… user@coder-git' }, fingerprint: { type: 'string', description: 'SHA256:…, as ssh-keygen -l shows it' }, created_at: time }),
  Me: obj({ username: str, roles: list(str), via: { type: 'string', enum: ['session', 'token'], description: 'how the caller signed in' } }),
  Workspace: obj({
    owner: str,
    name: str,
    template: str,
    desired_state: { type: 'string', enum: STATES, description: 'what git says' },
    scheduled_state: { type: ['string', 'null'], enum: [...STATES, null], description: 'what the schedule set, standing until git changes state:' },
    last_build: {
      oneOf: [
        { type: 'null' },
        obj({ number: int, transition: { type: 'string', enum: TRANSITIONS }, status: { type: 'string', enum: BUILD_STATUSES }, reason: { type: 'string', enum: BUILD_REASONS }, created_at: time, finished_at: nullable(time), error: nullable(str) }),
      ],
    },
    agent: {
      oneOf: [
        { type: 'null' },
        obj({
          status: { type: 'string', enum: ['connecting', 'connected', 'disconnected', 'timeout'] },
          lifecycle: { type: 'string', enum: LIFECYCLES },
          version: nullable(str),
          first_connected_at: nullable(time),
          last_connected_at: nullable(time),
          disconnected_at: nullable(time),
        }),
      ],
    },
    drifted_since: nullable(time),
    agent_lost_since: nullable(time),
  }),
  StartRequest: obj({ build_number: int, queued: { type: 'boolean', description: 'true: a start build was queued (202); false: it is already running or starting (200)' } }),
  Build: obj({
    id: uuid,
    build_number: int,
    transition: { type: 'string', enum: TRANSITIONS },
    status: { type: 'string', enum: BUILD_STATUSES },
    reason: { type: 'string', enum: BUILD_REASONS },
    error: nullable(str),
    created_at: time,
    started_at: nullable(time),
    finished_at: nullable(time),
    agent_id: nullable(uuid),
  }),
  LogLine: obj({ id: bigId, at: time, stream: { type: 'string', enum: ['stdout', 'stderr', 'system'] }, line: str }),
  BuildLogs: obj({ build: ref('Build'), lines: list(ref('LogLine')), agent_startup_log: list(ref('LogLine')) }, { description: 'lines: up to 1000 after the given id (ask again with after=<last id>)' }),
  User: obj({ id: uuid, username: str, email: str, full_name: nullable(str), roles: list(str), groups: { ...list(str), description: 'declared groups (groups/*.yaml members)' }, idp_groups: { ...list(str), description: "the OIDC groups claim of the user's last sign-in" }, login_type: { type: 'string', enum: ['password', 'oidc', 'github', 'none'] }, status: { type: 'string', enum: ['active', 'suspended'] } }),
  Sync: obj({
    id: bigId,
    commit_sha: str,
    ref: nullable(str),
    author: nullable(str),
    message: nullable(str),
    status: { type: 'string', enum: SYNC_STATUSES },
    errors: list({ type: 'object', required: ['message'], properties: { message: str, file: str, line: int, col: int }, description: 'an invalid commit: its diagnostics (file, line, col, severity, code, message); a failed one: what failed' }),
    plan_summary: { oneOf: [{ type: 'null' }, obj({ users: counts, groups: counts, templates: counts, workspaces: counts, builds: obj({ start: int, stop: int, delete: int }) }, { required: ['users', 'templates', 'workspaces', 'builds'] })] },
    created_at: time,
    started_at: nullable(time),
    finished_at: nullable(time),
  }),
  FailedBuild: obj({ workspace: { type: 'string', description: 'owner/name' }, build_number: int, transition: { type: 'string', enum: TRANSITIONS }, status: { type: 'string', enum: BUILD_STATUSES }, error: nullable(str), finished_at: nullable(time) }),
  AuditEntry: obj({ id: bigId, at: time, actor: str, action: str, target: nullable(str), details: { type: 'object', description: 'what the action needs said; never a secret' }, sync_id: nullable(bigId), ip: nullable(str) }),
  Token: obj({ id: uuid, kind: { type: 'string', enum: ['token'] }, name: str, created_at: time, expires_at: time, last_used_at: nullable(time) }),
  NewToken: obj({ token: { type: 'string', description: 'the secret: shown in this answer only' }, id: uuid, name: str, expires_at: time }),
  LoginToken: obj({ token: { type: 'string', description: 'the secret: shown in this answer only' }, username: str, expires_at: time }),
} satisfies Record<string, Schema>;

export { obj, list, str };
