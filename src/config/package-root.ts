/**
 * The package's own directory (where package.json, config/ and migrations/ are), found from a
 * module's URL. The same code runs from `src/…` under tsx and from `dist/src/…` once compiled
 * (`npm run build`), so the number of `..` differs: walk up to the package.json that names us.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'atm247-controller';

export function packageRootOf(moduleUrl: string): string {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours (or unreadable): keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
}

/** This checkout's or installation's root. */
export const PACKAGE_ROOT = packageRootOf(import.meta.url);
