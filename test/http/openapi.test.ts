/**
 * The HTTP contract: every registered route is in the OpenAPI document with its answers, the
 * document is served at /openapi.json and /docs (assets served locally), and every guarded route
 * answers 401 without a valid token and 403 for the wrong role before it looks at the request.
 */
import t from 'tap';
import { startTestLocker } from '../helpers/controller.js';
import { dbKind } from '../helpers/db.js';

/** Routes that may be left out of the document: the screens and Swagger UI itself. */
const MAY_HIDE = /^\/($|staff$|admin$|sim$|ui\/|docs($|\/))/;

t.test(`every route is documented, and guarded routes refuse before they validate (${dbKind})`, async (t) => {
  const locker = await startTestLocker(t);
  const app = locker.http;
  const res = await locker.anonymous.get('/openapi.json');
  t.equal(res.statusCode, 200);
  const doc = res.json();
  t.equal(doc.openapi, '3.1.0');
  t.match(doc.info, { title: /ATM 24\/7/, version: /^\d+\.\d+\.\d+/ });

  const routes = app.registeredRoutes.filter((r) => r.method !== 'HEAD');
  t.ok(routes.length >= 45, `${routes.length} routes registered`);
  const guarded: { method: string; url: string; role: string }[] = [];
  for (const route of routes) {
    const name = `${route.method} ${route.url}`;
    if (route.hidden) {
      t.match(route.url, MAY_HIDE, `${name}: only the screens and /docs may be left out`);
      continue;
    }
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const op = doc.paths[path]?.[route.method.toLowerCase()];
    if (!t.ok(op, `${name} is in the document`)) continue;
    const statuses = Object.keys(op.responses ?? {});
    const success = statuses.filter((s) => /^2/.test(s));
    t.ok(success.length > 0, `${name}: its success answer is documented`);
    for (const s of success) {
      const content = op.responses[s].content;
      // 204 and a HEAD-like answer carry no body; every other success says what it sends.
      if (s !== '204') t.ok(content && Object.values<any>(content)[0]?.schema, `${name}: ${s} has a schema`);
    }
    if (op['x-role']) {
      t.same(op.security, [{ bearer: [] }], `${name}: bearer security`);
      t.ok(statuses.includes('401') && statuses.includes('403'), `${name}: 401 and 403 documented`);
      guarded.push({ method: route.method, url: route.url, role: op['x-role'] });
    }
  }
  t.ok(guarded.length >= 25, `${guarded.length} guarded routes`);

  // Fill path parameters with something their schemas refuse: a route that validated before it
  // authenticated would answer 400.
  const badUrl = (url: string) => url.replace(/:[A-Za-z]+/g, 'not-valid!').replace(/\*$/, '');
  for (const route of guarded) {
    const name = `${route.method} ${route.url}`;
    const send = (headers: Record<string, string>) =>
      app.inject({
        method: route.method as 'GET',
        url: `${badUrl(route.url)}?bogus=1`,
        headers: { 'content-type': 'application/json', ...headers },
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: '{"bogus": tru' }),
      });
    const anonymous = await send({});
    t.equal(anonymous.statusCode, 401, `${name} without a token: 401 before anything else`);
    t.equal(anonymous.json().error.code, 'UNAUTHORIZED');
    const badToken = await send({ authorization: 'Bearer not-a-token-of-this-locker' });
    t.equal(badToken.statusCode, 401, `${name} with an unknown token: 401`);
    if (route.role === 'admin') {
      const staff = await send({ authorization: `Bearer ${locker.config.auth.staffToken}` });
      t.equal(staff.statusCode, 403, `${name} with a staff token: 403 before anything else`);
      t.equal(staff.json().error.code, 'FORBIDDEN');
    }
  }

  const ui = await locker.anonymous.get('/docs/');
  t.equal(ui.statusCode, 200, 'Swagger UI at /docs');
  t.match(ui.headers['content-type'], /text\/html/);
  t.notMatch(ui.body, /https?:\/\/(?!localhost)[a-z0-9.-]+\/[^"']*\.(js|css)/i, 'no script or style from elsewhere');
  const initializer = await locker.anonymous.get('/docs/static/swagger-initializer.js');
  t.equal(initializer.statusCode, 200, 'its assets are served here');
  t.match(initializer.body, "resolveUrl('./json')", 'the initializer reads the document beside it');
  const shown = await locker.anonymous.get('/docs/json');
  t.equal(shown.statusCode, 200, 'Swagger UI shows the document');
  t.same(shown.json().paths, (await locker.anonymous.get('/openapi.json')).json().paths, 'the same as /openapi.json');
  const bundle = await locker.anonymous.get('/docs/static/swagger-ui-bundle.js');
  t.equal(bundle.statusCode, 200);
  t.match(bundle.headers['content-type'], /javascript/);
  t.ok(bundle.body.length > 100_000, 'the whole Swagger UI script');
  t.equal((await locker.anonymous.get('/docs/static/no-such-file.js')).statusCode, 404, 'a file Swagger UI has not: 404');
});
