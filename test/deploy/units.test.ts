/**
 * The systemd units verify (`systemd-analyze verify`) in a staged root that holds the host's own
 * units and the executables they name, and a wrong key or a missing executable makes it fail; the
 * udev helper writes a rule naming the adapter by vendor, product and serial.
 */
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const units = ['atm247.service', 'atm247-kiosk.service'];
const noAnalyze = existsSync('/usr/bin/systemd-analyze') ? false : 'systemd-analyze is not installed (apt-get install systemd)';

/** A root with the host's systemd units, ours in /etc/systemd/system, and stand-ins for what ExecStart= runs. */
function stageRoot(edit: (name: string, text: string) => string = (_n, text) => text): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'atm247-units-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true });
  cpSync('/usr/lib/systemd/system', path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  for (const name of units) {
    const text = readFileSync(path.join(repo, 'deploy/systemd', name), 'utf8');
    writeFileSync(path.join(root, 'etc/systemd/system', name), edit(name, text));
  }
  const executables = new Set<string>();
  for (const name of units) {
    for (const match of readFileSync(path.join(repo, 'deploy/systemd', name), 'utf8').matchAll(/^Exec\w+=[-@:+!]*(\/\S+)/gm))
      executables.add(match[1]);
  }
  for (const file of executables) {
    mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(root, file), '#!/bin/sh\n');
    chmodSync(path.join(root, file), 0o755);
  }
  return root;
}

async function verify(root: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', `--root=${root}`, ...units.map((u) => `/etc/systemd/system/${u}`)]);
    return { code: 0, output: `${stdout}${stderr}`.trim() };
  } catch (err: any) {
    return { code: err.code ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}`.trim() };
  }
}

t.test('the daemon and kiosk units verify without a warning', { skip: noAnalyze }, async (t) => {
  const result = await verify(stageRoot());
  t.equal(result.output, '', 'systemd-analyze says nothing');
  t.equal(result.code, 0);
});

t.test('verify catches a misspelt setting and a missing executable', { skip: noAnalyze }, async (t) => {
  const misspelt = await verify(
    stageRoot((name, text) => (name === 'atm247.service' ? text.replace('WatchdogSec=', 'WatchdogSecs=') : text)),
  );
  t.match(misspelt.output, /Unknown key 'WatchdogSecs'/);
  const root = stageRoot();
  rmSync(path.join(root, 'usr/bin/cage'));
  const missing = await verify(root);
  t.not(missing.code, 0);
  t.match(missing.output, /\/usr\/bin\/cage is not executable/);
});

t.test('the daemon unit asks for what issue 11 names', async (t) => {
  const unit = readFileSync(path.join(repo, 'deploy/systemd/atm247.service'), 'utf8');
  for (const line of [
    'Type=notify',
    'NotifyAccess=all',
    'Restart=on-failure',
    'User=atm247',
    'SupplementaryGroups=dialout',
    'ProtectSystem=strict',
    'NoNewPrivileges=yes',
    'StateDirectory=atm247',
    'CacheDirectory=atm247',
  ]) {
    t.match(unit, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'), line);
  }
  t.match(unit, /^WatchdogSec=\d+$/m);
  // The unit runs the daemon as `npm run start:prod` does, node flags included.
  const startProd: string = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).scripts['start:prod'];
  const flags = startProd.replace(/^node /, '').replace(/ ?dist\/src\/main\.js$/, '');
  t.match(flags, /--max-semi-space-size=\d+/, 'start:prod caps the young generation');
  t.match(unit, new RegExp(`^ExecStart=/usr/bin/node ${flags} /opt/atm247/dist/src/main\\.js$`, 'm'), 'ExecStart: the same node flags');
  const dockerfile = readFileSync(path.join(repo, 'Dockerfile'), 'utf8');
  t.match(dockerfile, `CMD ${JSON.stringify(['node', ...flags.split(' '), 'dist/src/main.js']).replace(/,/g, ', ')}`, 'the image too');
  t.notMatch(unit, /^ReadWritePaths=/m, 'nothing writable but the state and cache directories');
  const kiosk = readFileSync(path.join(repo, 'deploy/systemd/atm247-kiosk.service'), 'utf8');
  t.match(kiosk, /^Requires=atm247\.service$/m);
  t.match(kiosk, /^After=atm247\.service/m);
  t.match(kiosk, /--kiosk .*http:\/\/127\.0\.0\.1:8080\/$/m);
});

t.test('the udev helper names the adapter by vendor, product and serial', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atm247-udev-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const props = (extra: string) =>
    `DEVNAME=/dev/ttyUSB0\nSUBSYSTEM=tty\nID_BUS=usb\nID_VENDOR_ID=0403\nID_MODEL_ID=6001\nID_MODEL=FT232R_USB_UART\nID_PATH=pci-0000:00:14.0-usb-0:2:1.0\n${extra}`;
  writeFileSync(path.join(dir, 'ftdi.txt'), props('ID_SERIAL_SHORT=A10K3M2Q\n'));
  writeFileSync(path.join(dir, 'ch340.txt'), props(''));
  writeFileSync(path.join(dir, 'disk.txt'), 'DEVNAME=/dev/sda\nSUBSYSTEM=block\n');
  const script = path.join(repo, 'deploy/udev/rs485-rule.sh');
  const ftdi = await run(script, ['--properties', path.join(dir, 'ftdi.txt')]);
  t.match(
    ftdi.stdout,
    /^SUBSYSTEM=="tty", ATTRS\{idVendor\}=="0403", ATTRS\{idProduct\}=="6001", ATTRS\{serial\}=="A10K3M2Q", SYMLINK\+="atm247-rs485", GROUP="dialout", MODE="0660"$/m,
  );
  const ch340 = await run(script, ['--properties', path.join(dir, 'ch340.txt')]);
  t.match(ch340.stdout, /ENV\{ID_PATH\}=="pci-0000:00:14.0-usb-0:2:1.0", SYMLINK\+="atm247-rs485"/);
  await t.rejects(run(script, ['--properties', path.join(dir, 'disk.txt')]), { code: 65 });
});

t.test('the shipped cabinet map opens the adapter by its udev name', async (t) => {
  t.match(readFileSync(path.join(repo, 'config/cabinet.yaml'), 'utf8'), /path: \/dev\/atm247-rs485,/);
});
