/**
 * YAML text of the configuration files, parsed, with a cache of parsed texts keyed by the SHA-256
 * of the whole text, so that a cached answer is always the one the parser would give (ADR 0020):
 * JSON.parse is an order of magnitude faster than the YAML parser while the daemon starts.
 * - `npm run build` parses the files shipped in `config/` into `dist/config-cache/`;
 * - under systemd (`CacheDirectory=atm247`, deploy/systemd/), `$CACHE_DIRECTORY/config/` keeps
 *   the texts of this cabinet's own files once parsed, for the next start.
 * Any other text is parsed as YAML; a value that does not survive JSON unchanged is never cached.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import YAML from 'yaml';
import { PACKAGE_ROOT } from './package-root.js';

export const CONFIG_CACHE_DIR = path.join(PACKAGE_ROOT, 'dist', 'config-cache');
/** Parsed texts kept in the runtime cache (the newest). */
const RUNTIME_CACHE_ENTRIES = 16;

/** `$CACHE_DIRECTORY/config` (systemd gives a colon-separated list when there are several). */
export function runtimeCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = env.CACHE_DIRECTORY?.split(':')[0];
  return base ? path.join(base, 'config') : undefined;
}

const textHash = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The value as JSON, if JSON gives it back unchanged. */
function asJson(value: unknown): string | undefined {
  const json = JSON.stringify(value);
  return json !== undefined && isDeepStrictEqual(JSON.parse(json), value) ? json : undefined;
}

/** Parses YAML text (throws the parser's error on bad YAML), from a cache when one has this text. */
export function parseYaml(
  text: string,
  caches: { build?: string; runtime?: string } = { build: CONFIG_CACHE_DIR, runtime: runtimeCacheDir() },
): unknown {
  const name = `${textHash(text)}.json`;
  for (const dir of [caches.build, caches.runtime]) {
    if (!dir) continue;
    try {
      return JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
    } catch {
      // not a text this cache has (or an entry cut short: parsed again below)
    }
  }
  const value = YAML.parse(text);
  if (caches.runtime) keep(caches.runtime, name, value);
  return value;
}

/** Best effort: a cache that cannot be written only costs the next start the parse. */
function keep(dir: string, name: string, value: unknown): void {
  const json = asJson(value);
  if (json === undefined) return;
  try {
    mkdirSync(dir, { recursive: true });
    const partial = path.join(dir, `.${name}.${process.pid}`);
    writeFileSync(partial, json);
    renameSync(partial, path.join(dir, name)); // whole or not at all
    const entries = readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .map((n) => ({ n, at: statSync(path.join(dir, n)).mtimeMs }))
      .sort((a, b) => b.at - a.at);
    for (const old of entries.slice(RUNTIME_CACHE_ENTRIES)) unlinkSync(path.join(dir, old.n));
  } catch {
    // read-only or full: the parser it is, next time too
  }
}

/**
 * The build step: every `*.yaml` of `configDir` parsed into `cacheDir` (emptied first), when its
 * value survives JSON unchanged (a YAML-only value, e.g. `.inf`, is left to the parser). Returns
 * the files cached.
 */
export function writeConfigCache(configDir: string, cacheDir = CONFIG_CACHE_DIR): string[] {
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  const cached: string[] = [];
  for (const name of readdirSync(configDir)
    .filter((n) => n.endsWith('.yaml'))
    .sort()) {
    const text = readFileSync(path.join(configDir, name), 'utf8');
    const json = asJson(YAML.parse(text));
    if (json === undefined) continue;
    writeFileSync(path.join(cacheDir, `${textHash(text)}.json`), json);
    cached.push(name);
  }
  return cached;
}
