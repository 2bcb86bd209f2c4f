// POST /api/v1/webhooks/git: a push to the config repo makes the runners fetch at once instead of at
// their next --interval. GitHub signs the body (X-Hub-Signature-256: sha256=HMAC(secret, body));
// GitLab sends the secret itself (X-Gitlab-Token). Either is compared in constant time against the
// server's webhook secret (CODER_GIT_WEBHOOK_SECRET). The runners hear it through PostgreSQL NOTIFY,
// whichever replica got it. GitHub sends JSON or a form (payload=<JSON>, signed as sent); anything
// else is refused. A delivery seen before (its delivery id, on any replica, within a day) is
// answered without another refresh: redelivered or replayed, it changes nothing.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Ctx } from './context.ts';
import { publish, REFRESH_CHANNEL } from '../db/channels.ts';
import { webhookDeliveries } from '../db/repos/webhook-deliveries.ts';

const equal = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export function verifyWebhook(secret: string, headers: Record<string, unknown>, body: Buffer): 'github' | 'gitlab' | undefined {
  const sig = headers['x-hub-signature-256'];
  if (typeof sig === 'string' && sig.startsWith('sha256=')) {
    const want = createHmac('sha256', secret).update(body).digest();
    return equal(Buffer.from(sig.slice(7), 'hex'), want) ? 'github' : undefined;
  }
  const token = headers['x-gitlab-token'];
  if (typeof token === 'string') return equal(Buffer.from(token), Buffer.from(secret)) ? 'gitlab' : undefined;
  return undefined;
}

/** The JSON a delivery carries: the body, or a GitHub form's payload field; undefined when it is neither. */
function deliveryJson(type: string, body: Buffer): unknown {
  try {
    if (type === 'application/json') return JSON.parse(body.toString('utf8'));
    const payload = new URLSearchParams(body.toString('utf8')).get('payload');
    return payload === null ? undefined : JSON.parse(payload);
  } catch {
    return undefined;
  }
}

export async function webhookRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  // The signature covers the bytes as sent: keep them (this plugin's own parsers; pages keep theirs).
  app.removeContentTypeParser(['application/json', 'application/x-www-form-urlencoded']);
  app.addContentTypeParser(['application/json', 'application/x-www-form-urlencoded'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/api/v1/webhooks/git', async (req, reply) => {
    const secret = ctx.o.webhookSecret;
    if (!secret) return reply.code(404).send({ error: { code: 'not_found', message: 'the git webhook is off: start the server with CODER_GIT_WEBHOOK_SECRET set (a secret is never a flag)' } });
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && type !== 'application/x-www-form-urlencoded') return reply.code(415).send({ error: { code: 'unsupported_media_type', message: `content-type ${JSON.stringify(type || 'none')}: a webhook delivery is application/json (or GitHub's application/x-www-form-urlencoded)` } });
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const from = verifyWebhook(secret, req.headers, body);
    if (!from) return reply.code(401).send({ error: { code: 'unauthenticated', message: 'signature or token does not match the webhook secret' } });
    const event = String(req.headers['x-github-event'] ?? req.headers['x-gitlab-event'] ?? '');
    if (event === 'ping') return reply.send({ ok: true, pong: true });
    const json = deliveryJson(type, body);
    if (!json || typeof json !== 'object') return reply.code(400).send({ error: { code: 'bad_request', message: type === 'application/json' ? 'the body is not a JSON object' : 'the form has no payload field holding a JSON object' } });
    const payload = json as { ref?: unknown; after?: unknown; checkout_sha?: unknown };
    const delivery = req.headers['x-github-delivery'] ?? req.headers['x-gitlab-event-uuid'];
    if (typeof delivery === 'string' && delivery) {
      if (!(await webhookDeliveries.first(ctx.o.database.db, `${from}:${delivery.slice(0, 100)}`))) return reply.code(200).send({ ok: true, duplicate: true });
    }
    const ref = typeof payload.ref === 'string' ? payload.ref : null;
    const after = typeof payload.after === 'string' ? payload.after : typeof payload.checkout_sha === 'string' ? payload.checkout_sha : null;
    await publish(ctx.o.database.db, REFRESH_CHANNEL, { from, ref, after });
    return reply.code(202).send({ ok: true, ref });
  });
}
