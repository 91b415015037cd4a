import t from 'tap';
import { request, type IncomingHttpHeaders } from 'node:http';
import { ADMIN_TOKEN, startTestLocker } from '../helpers/controller.js';
import { dbKind } from '../helpers/db.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One real HTTP request; fails unless the whole answer (status, headers, body, end) comes within `ms`. */
function call(url: string, method: 'GET' | 'HEAD', headers: Record<string, string> = {}, ms = 2_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${url}: no complete answer within ${ms} ms`));
    }, ms);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** The first event of a stream, then the connection is dropped. */
function firstEvent(url: string, headers: Record<string, string>, ms = 3_000): Promise<{ headers: IncomingHttpHeaders; event: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        const event = /event: trays\ndata: .*\n\n/.exec(text);
        if (event) {
          clearTimeout(timer);
          req.destroy();
          resolve({ headers: res.headers, event: event[0] });
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`GET ${url}: no event within ${ms} ms`));
    }, ms);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

t.test(`HEAD on the event stream answers at once, with the headers and no body (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const base = await locker.controller.http.listen({ port: 0, host: '127.0.0.1' });
  const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

  const head = await call(`${base}/api/admin/stream`, 'HEAD', bearer);
  t.equal(head.status, 200);
  t.match(head.headers['content-type'], /^text\/event-stream/);
  t.equal(head.headers['cache-control'], 'no-cache, no-transform');
  t.equal(head.body, '', 'no body');

  const viaQuery = await call(`${base}/api/admin/stream?token=${ADMIN_TOKEN}`, 'HEAD');
  t.equal(viaQuery.status, 200, 'the token in the query string, as EventSource sends it');

  t.equal((await call(`${base}/api/admin/stream`, 'HEAD')).status, 401, 'still signed in only');
  t.equal((await call(`${base}/api/admin/stream?token=not-a-real-token-123456`, 'HEAD')).status, 401);

  // Several in a row: none is left holding a connection or a subscription.
  for (let i = 0; i < 5; i++) t.equal((await call(`${base}/api/admin/stream`, 'HEAD', bearer)).status, 200);

  // GET still streams: the headers, then every tray.
  const get = await firstEvent(`${base}/api/admin/stream`, bearer);
  t.match(get.headers['content-type'], /^text\/event-stream/);
  t.equal(JSON.parse(get.event.split('data: ')[1]).trays.length, 90, 'the first event lists every tray');
});
