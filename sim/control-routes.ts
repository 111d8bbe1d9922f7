/**
 * HTTP control API under `/sim/` (JSON, no auth, loopback clients only). Each route is a thin
 * adapter over `SimControl`.
 */
import { type NextFunction, type Request, type Response, Router } from 'express';
import type { SimControl } from './control.js';
import { SimControlError } from './control-types.js';
import { isFlavor } from './flavor.js';
import type { FrameDirection } from './frame-log.js';
import { clientIp } from './rest-framework.js';
import type { UserStatus } from './types.js';

type Body = Record<string, unknown>;

function body(req: Request): Body {
  return req.body && typeof req.body === 'object' ? (req.body as Body) : {};
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new SimControlError(400, 'invalid-params', `"${field}" must be a non-empty string`);
  }
  return value;
}

function num(value: unknown, field: string): number {
  const parsed = typeof value === 'string' ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed)) {
    throw new SimControlError(400, 'invalid-params', `"${field}" must be a number`);
  }
  return parsed;
}

function optStr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isLoopback(address: string): boolean {
  return address === '127.0.0.1' || address === '::1' || address.startsWith('127.');
}

export function controlRouter(control: SimControl): Router {
  const router = Router();
  router.use((req, res, next) => {
    if (!isLoopback(clientIp(req))) {
      res.status(403).json({ error: 'forbidden', message: 'The control API only answers loopback clients' });
      return;
    }
    next();
  });

  router.post('/users', (req, res) => {
    const b = body(req);
    const name = optStr(b['name']);
    const email = optStr(b['email']);
    res.status(201).json(
      control.createUser({
        username: str(b['username'], 'username'),
        password: str(b['password'], 'password'),
        ...(name ? { name } : {}),
        ...(email ? { email } : {}),
      }),
    );
  });
  router.get('/users/:username', (req, res) => {
    res.json(control.user(req.params['username'] ?? ''));
  });
  router.post('/users/:username/expire-tokens', (req, res) => {
    res.json({ expired: control.expireTokens(req.params['username'] ?? '') });
  });
  router.post('/users/:username/revoke-tokens', (req, res) => {
    const closeConnections = body(req)['closeConnections'];
    res.json({
      revoked: control.revokeTokens(req.params['username'] ?? '', {
        ...(typeof closeConnections === 'boolean' ? { closeConnections } : {}),
      }),
    });
  });
  router.post('/users/:username/tokens', (req, res) => {
    res.status(201).json(control.tokenFor(req.params['username'] ?? ''));
  });

  router.post('/rooms', (req, res) => {
    const b = body(req);
    const t = b['t'];
    if (t !== 'c' && t !== 'p' && t !== 'd') {
      throw new SimControlError(400, 'invalid-params', '"t" must be c, p or d');
    }
    const members = Array.isArray(b['members'])
      ? b['members'].filter((m): m is string => typeof m === 'string')
      : [];
    const name = optStr(b['name']);
    const owner = optStr(b['owner']);
    res.status(201).json(
      control.createRoom({
        t,
        members,
        ...(name ? { name } : {}),
        ...(owner ? { owner } : {}),
        readOnly: b['readOnly'] === true,
      }),
    );
  });
  router.get('/rooms/:rid/messages', (req, res) => {
    const rid = req.params['rid'] ?? '';
    res.json({ messages: control.roomMessages(rid), deleted: control.deletedMessages(rid) });
  });

  router.post('/rooms/:rid/prune', (req, res) => {
    const ids = body(req)['ids'];
    const list = Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
    res.json({ deleted: control.deleteMessagesBulk(req.params['rid'] ?? '', list) });
  });

  router.post('/messages', (req, res) => {
    const b = body(req);
    const extra = {
      ...(optStr(b['_id']) ? { _id: b['_id'] as string } : {}),
      ...(optStr(b['tmid']) ? { tmid: b['tmid'] as string } : {}),
      ...(b['tshow'] === true ? { tshow: true } : {}),
    };
    res
      .status(201)
      .json(
        control.postMessage(
          str(b['username'], 'username'),
          str(b['rid'], 'rid'),
          str(b['msg'], 'msg'),
          extra,
        ),
      );
  });
  router.patch('/messages/:id', (req, res) => {
    const b = body(req);
    res.json(control.editMessage(req.params['id'] ?? '', str(b['msg'], 'msg'), optStr(b['username'])));
  });
  router.delete('/messages/:id', (req, res) => {
    control.deleteMessage(req.params['id'] ?? '');
    res.json({ deleted: true });
  });
  router.post('/messages/:id/reactions', (req, res) => {
    const b = body(req);
    const should = b['shouldReact'];
    res.json(
      control.react(
        str(b['username'], 'username'),
        req.params['id'] ?? '',
        str(b['emoji'], 'emoji'),
        typeof should === 'boolean' ? should : undefined,
      ),
    );
  });

  router.post('/presence', (req, res) => {
    const b = body(req);
    control.setPresence(
      str(b['username'], 'username'),
      str(b['status'], 'status') as UserStatus,
      optStr(b['statusText']),
    );
    res.json({ ok: true });
  });
  router.post('/typing', (req, res) => {
    const b = body(req);
    control.setTyping(str(b['username'], 'username'), str(b['rid'], 'rid'), b['typing'] !== false);
    res.json({ ok: true });
  });

  router.get('/flavor', (_req, res) => {
    res.json({ flavor: control.flavor });
  });
  router.post('/flavor', (req, res) => {
    const flavor = body(req)['flavor'];
    if (!isFlavor(flavor)) {
      throw new SimControlError(400, 'invalid-params', '"flavor" must be "meteor" or "streamer"');
    }
    control.setFlavor(flavor);
    res.json({ flavor: control.flavor });
  });

  router.post('/faults/slow-method', (req, res) => {
    const b = body(req);
    control.slowMethod(str(b['method'], 'method'), num(b['ms'], 'ms'));
    res.json({ ok: true });
  });
  router.post('/faults/drop', (req, res) => {
    res.json({ dropped: control.dropConnections(optStr(body(req)['username'])) });
  });
  router.post('/faults/ignore-pings', (req, res) => {
    control.setIgnorePings(body(req)['enabled'] !== false);
    res.json({ ok: true });
  });
  router.post('/faults/delay', (req, res) => {
    control.setFrameDelay(num(body(req)['ms'], 'ms'));
    res.json({ ok: true });
  });
  router.post('/faults/refuse', (req, res) => {
    control.refuseConnections(num(body(req)['ms'], 'ms'));
    res.json({ ok: true });
  });
  router.post('/faults/rate-limit', (req, res) => {
    const b = body(req);
    const ttr = b['timeToResetMs'];
    control.forceRateLimit(
      str(b['method'], 'method'),
      num(b['count'], 'count'),
      ttr === undefined ? undefined : num(ttr, 'timeToResetMs'),
    );
    res.json({ ok: true });
  });

  router.get('/frames', (req, res) => {
    const direction = req.query['direction'];
    const limit = req.query['limit'];
    const contains = req.query['contains'];
    const connectionId = req.query['connectionId'];
    res.json(
      control.frames({
        ...(direction === 'in' || direction === 'out' ? { direction: direction as FrameDirection } : {}),
        ...(typeof limit === 'string' ? { limit: num(limit, 'limit') } : {}),
        ...(typeof contains === 'string' ? { contains } : {}),
        ...(typeof connectionId === 'string' ? { connectionId } : {}),
      }),
    );
  });
  router.get('/stats', (_req, res) => {
    res.json(control.stats());
  });
  router.post('/flood', (req, res) => {
    const b = body(req);
    res.json(control.flood(str(b['rid'], 'rid'), num(b['count'], 'count'), optStr(b['username'])));
  });

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof SimControlError) {
      res.status(err.status).json({ error: err.code, message: err.message });
      return;
    }
    res.status(500).json({ error: 'internal', message: err instanceof Error ? err.message : String(err) });
  });
  return router;
}
