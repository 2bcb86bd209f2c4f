// POST /api/v1/webhooks/git: a push to the config repo makes the runners fetch at once instead of at
// their next --interval. GitHub signs the body (X-Hub-Signature-256: sha256=HMAC(secret, body));
// GitLab sends the secret itself (X-Gitlab-Token). Either is compared in constant time against the
// server's --webhook-secret. The runners hear it through PostgreSQL NOTIFY, whichever replica got it.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Ctx } from './context.ts';
import { publish, REFRESH_CHANNEL } from '../db/channels.ts';

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

export async function webhookRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  // The signature covers the bytes as sent: keep them.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/api/v1/webhooks/git', async (req, reply) => {
    const secret = ctx.o.webhookSecret;
    if (!secret) return reply.code(404).send({ error: { code: 'not_found', message: 'the git webhook is off: start the server with --webhook-secret (or CODER_GIT_WEBHOOK_SECRET)' } });
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.from(typeof req.body === 'string' ? req.body : '');
    const from = verifyWebhook(secret, req.headers, body);
    if (!from) return reply.code(401).send({ error: { code: 'unauthenticated', message: 'signature or token does not match the webhook secret' } });
    const event = String(req.headers['x-github-event'] ?? req.headers['x-gitlab-event'] ?? '');
    if (event === 'ping') return reply.send({ ok: true, pong: true });
    let payload: { ref?: unknown; after?: unknown; checkout_sha?: unknown };
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return reply.code(400).send({ error: { code: 'bad_request', message: 'the body is not JSON' } });
    }
    const ref = typeof payload.ref === 'string' ? payload.ref : null;
    const after = typeof payload.after === 'string' ? payload.after : typeof payload.checkout_sha === 'string' ? payload.checkout_sha : null;
    await publish(ctx.o.database.db, REFRESH_CHANNEL, { from, ref, after });
    return reply.code(202).send({ ok: true, ref });
  });
}
