/**
 * The screens: the kiosk at `/`, staff at `/staff`, the admin dashboard at `/admin` and, with the
 * simulated cabinet only, the simulator panel at `/sim`. Built by `npm run build:ui` into
 * `dist/ui/` and served from there; nothing comes from a CDN (the cabinet PC may be offline).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../errors.js';

export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../dist/ui', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

// Everything is served from this origin; styles may be set by the scripts.
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const body = readFileSync(path);
        const type = TYPES[extname(name)] ?? 'application/octet-stream';
        const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
        assets.set(relative(dir, path).split(sep).join('/'), { body, type, etag });
      }
    }
  };
  walk(dir);
  return assets;
}

export interface UiRouteOptions {
  /** Whether the simulator panel is offered (the hardware driver is the simulator). */
  simulator: boolean;
  /** Where the built screens are; defaults to `dist/ui` of this checkout. */
  dir?: string;
  /** Other pages than the cabinet's (the fleet service serves its dashboard at `/`): [url, screen]. */
  pages?: [string, string][];
}

export async function uiRoutes(app: FastifyInstance, opts: UiRouteOptions) {
  const dir = opts.dir ?? DEFAULT_UI_DIR;
  // Read once: the screens change only with a new build, which means a restart.
  const assets = loadAssets(dir);

  const send = (request: FastifyRequest, reply: FastifyReply, asset: Asset) => {
    reply.header('etag', asset.etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  const pages: [string, string][] = opts.pages ?? [
    ['/', 'kiosk'],
    ['/staff', 'staff'],
    ['/admin', 'admin'],
  ];
  if (opts.simulator) pages.push(['/sim', 'sim']);
  for (const [url, name] of pages) {
    // Screens, not API: left out of the OpenAPI document.
    app.get(url, { schema: { hide: true } }, async (request, reply) => {
      const asset = assets.get(`${name}.html`);
      if (!asset) {
        return reply
          .status(503)
          .type('text/plain; charset=utf-8')
          .send(`The screens are not built: run "npm run build:ui" (expected in ${dir}).\n`);
      }
      reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer');
      return send(request, reply, asset);
    });
  }

  app.get<{ Params: { '*': string } }>('/ui/*', { schema: { hide: true } }, async (request, reply) => {
    const asset = assets.get(request.params['*']);
    // Only built files are known: no path is ever joined from the request.
    if (!asset || request.params['*'].endsWith('.html')) return sendError(reply, 'NOT_FOUND', 'no such file');
    return send(request, reply, asset);
  });
}
