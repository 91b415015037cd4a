import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { parseYaml, runtimeCacheDir, writeConfigCache } from '../../src/config/yaml-file.js';
import { CONFIG_DIR } from '../../src/config/load.js';

const scratch = () => mkdtempSync(path.join(tmpdir(), 'atm247-yaml-'));

t.test('the build cache: every shipped file, parsed as the parser parses it', async (t) => {
  const cache = scratch();
  const cached = writeConfigCache(CONFIG_DIR, cache);
  const shipped = readdirSync(CONFIG_DIR).filter((n) => n.endsWith('.yaml'));
  t.same(cached.sort(), shipped.sort(), 'all of config/*.yaml');
  t.equal(readdirSync(cache).length, shipped.length, 'one entry per file');
  for (const name of shipped) {
    const text = readFileSync(path.join(CONFIG_DIR, name), 'utf8');
    t.same(parseYaml(text, { build: cache }), YAML.parse(text), `${name}: the same value from the cache`);
  }
});

t.test('a text the cache has is read from it; any other text is parsed', async (t) => {
  const cache = scratch();
  const configDir = scratch();
  writeFileSync(path.join(configDir, 'a.yaml'), 'answer: 42\n');
  writeConfigCache(configDir, cache);
  // The entry is what the cache answers: altered by hand, it shows that it was read.
  const [entry] = readdirSync(cache);
  writeFileSync(path.join(cache, entry), '{"answer": "from the cache"}');
  t.same(parseYaml('answer: 42\n', { build: cache }), { answer: 'from the cache' });
  t.same(parseYaml('answer: 43\n', { build: cache }), { answer: 43 }, 'one character more: parsed');
  writeFileSync(path.join(cache, entry), '{"answer": ');
  t.same(parseYaml('answer: 42\n', { build: cache }), { answer: 42 }, 'an entry cut short: parsed');
  t.throws(() => parseYaml('answer: [1, 2\n', { build: cache }), 'bad YAML still throws the parser’s error');
});

t.test('the runtime cache keeps this cabinet’s own texts for the next start', async (t) => {
  const runtime = path.join(scratch(), 'config');
  const text = 'locker:\n  id: d6-01\n  trays: 90\n';
  t.same(parseYaml(text, { runtime }), { locker: { id: 'd6-01', trays: 90 } });
  t.equal(readdirSync(runtime).length, 1, 'kept');
  const [entry] = readdirSync(runtime);
  writeFileSync(path.join(runtime, entry), '{"locker": {"id": "from the cache"}}');
  t.same(parseYaml(text, { runtime }), { locker: { id: 'from the cache' } }, 'read back at the next start');

  t.same(parseYaml('limit: .inf\n', { runtime }), { limit: Infinity }, 'a value JSON cannot carry is parsed…');
  t.equal(readdirSync(runtime).length, 1, '…and never cached');

  for (let i = 0; i < 20; i++) parseYaml(`n: ${i}\n`, { runtime });
  t.equal(readdirSync(runtime).length, 16, 'the newest 16 texts only');

  const notADirectory = path.join(scratch(), 'a-file');
  writeFileSync(notADirectory, '');
  const unwritable = path.join(notADirectory, 'config');
  t.same(parseYaml('ok: true\n', { runtime: unwritable }), { ok: true }, 'a cache that cannot be written: parsed all the same');
  t.notOk(existsSync(unwritable));
});

t.test('CACHE_DIRECTORY as systemd gives it', async (t) => {
  t.equal(runtimeCacheDir({}), undefined, 'none without it');
  t.equal(runtimeCacheDir({ CACHE_DIRECTORY: '/var/cache/atm247' }), '/var/cache/atm247/config');
  t.equal(runtimeCacheDir({ CACHE_DIRECTORY: '/var/cache/a:/var/cache/b' }), '/var/cache/a/config', 'the first of several');
});
