/**
 * Embedded PostgreSQL for a machine with no server: PGlite (Postgres compiled to WASM) in-process,
 * served on loopback by pglite-socket so the controller still talks to it with `pg` like to a
 * real server. Data lives under `dataDir`; `dataDir: null` keeps it in memory (tests).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from 'pino';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string | null;
  port?: number;
  maxConnections?: number;
  logger: Logger;
}): Promise<EmbeddedPostgres> {
  let dataPath: string | undefined;
  if (opts.dataDir) {
    dataPath = path.resolve(opts.dataDir, 'pgdata');
    await mkdir(dataPath, { recursive: true });
  }
  const db = dataPath ? await PGlite.create(dataPath) : await PGlite.create();
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: opts.port ?? 0,
    maxConnections: opts.maxConnections ?? 16,
  });
  await server.start();
  const address = (server as unknown as { server?: import('node:net').Server }).server?.address();
  const conn = server.getServerConn();
  const port = typeof address === 'object' && address ? address.port : Number(conn.split(':').pop());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  opts.logger.info({ dataDir: dataPath ?? 'memory', port }, 'embedded PostgreSQL (PGlite) listening');
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
