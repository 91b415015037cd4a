/**
 * Builds the screens (kiosk, staff, admin, simulator) into `dist/ui/`: one ES module and one
 * stylesheet per screen, shared code split into chunks, and a small HTML page for each. Every
 * asset is served by the daemon itself: the cabinet PC may have no internet.
 *
 *   npm run build:ui            build once (minified)
 *   npm run build:ui -- --watch rebuild on change
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outdir = `${root}dist/ui`;

export const SCREENS = {
  kiosk: { title: 'ATM 24/7', lang: 'vi' },
  staff: { title: 'ATM 24/7 – Cán bộ', lang: 'vi' },
  admin: { title: 'ATM 24/7 – Giám sát', lang: 'vi' },
  sim: { title: 'ATM 24/7 – Simulator', lang: 'en' },
  fleet: { title: 'ATM 24/7 – Toàn bộ tủ', lang: 'vi' },
} as const;

function page(name: keyof typeof SCREENS): string {
  const { title, lang } = SCREENS[name];
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/ui/${name}.css">
<script type="module" src="/ui/${name}.js"></script>
</head><body><div id="app"><noscript>This screen needs JavaScript.</noscript></div></body></html>
`;
}

async function main(): Promise<void> {
  const watch = process.argv.includes('--watch');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const options: esbuild.BuildOptions = {
    entryPoints: Object.fromEntries(Object.keys(SCREENS).map((s) => [s, `${root}src/ui/${s}/main.ts`])),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: !watch,
    sourcemap: 'linked',
    chunkNames: 'chunks/[name]-[hash]',
    legalComments: 'linked',
    logLevel: 'warning',
  };
  for (const name of Object.keys(SCREENS) as (keyof typeof SCREENS)[]) writeFileSync(`${outdir}/${name}.html`, page(name));
  if (watch) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
    console.log(`watching src/ui, writing ${outdir}`);
    return;
  }
  const started = Date.now();
  await esbuild.build(options);
  console.log(`screens built into dist/ui in ${Date.now() - started} ms`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
