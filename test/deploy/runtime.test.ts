import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runtime = fileURLToPath(new URL('../../src/runtime.ts', import.meta.url));

/** In a fresh Node: whether loading pg pulled in Node's fetch implementation (undici). */
function loadsFetch(withNavigator: boolean): { undici: boolean; userAgent: string | null } {
  const script = `
    ${withNavigator ? `const { provideNavigator } = await import(${JSON.stringify(runtime)}); provideNavigator();` : ''}
    await import('pg');
    console.log(JSON.stringify({
      undici: process.moduleLoadList.some((m) => m.includes('undici')),
      userAgent: globalThis.navigator?.userAgent ?? null,
    }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

t.test('the daemon gives pg a navigator, so that loading pg does not load fetch', async (t) => {
  const major = Number(process.versions.node.split('.')[0]);
  const given = loadsFetch(true);
  t.equal(given.undici, false, 'pg loaded without fetch');
  t.match(given.userAgent, new RegExp(`^Node\\.js/${major}$`), 'a user agent in Node’s own form');
  if (major === 20) {
    t.equal(loadsFetch(false).undici, true, 'without it, Node 20 loads fetch for pg (what this is for)');
  } else {
    t.equal(loadsFetch(false).userAgent?.startsWith('Node.js/'), true, 'a newer Node has its own navigator, kept as it is');
  }
});
