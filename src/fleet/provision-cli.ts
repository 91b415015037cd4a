/**
 * `npm run fleet:provision -- <locker id | fleet> [--dir deploy/fleet/broker] [--base atm247]
 * [--url mqtts://broker.district.example:8883]`: creates or renews a broker user (docs/fleet.md)
 * and prints the settings for the locker's /etc/atm247/atm247.env. The password is shown once.
 */
import path from 'node:path';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { isAppError } from '../domain/errors.js';
import { provision } from './provision.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return undefined;
  const value = args[at + 1];
  args.splice(at, 2);
  return value;
};
const dir = path.resolve(option('dir') ?? path.join(PACKAGE_ROOT, 'deploy', 'fleet', 'broker'));
const baseTopic = option('base') ?? 'atm247';
const brokerUrl = option('url');
const [user, ...rest] = args;
if (!user || rest.length) {
  console.error('usage: npm run fleet:provision -- <locker id | fleet> [--dir DIR] [--base atm247] [--url mqtts://host:8883]');
  process.exit(64);
}
try {
  const done = provision({ dir, baseTopic }, user, { brokerUrl });
  console.log(`# broker user "${done.user}" written to ${path.join(dir, 'passwd')} and ${path.join(dir, 'acl')}`);
  console.log('# reload the broker (kill -HUP <mosquitto pid>) for it to take effect; the password is shown only now');
  if (baseTopic !== 'atm247') console.log(`# the locker's configuration needs mqtt.baseTopic: ${baseTopic}`);
  for (const [name, value] of Object.entries(done.env)) console.log(`${name}=${value}`);
} catch (err) {
  console.error(isAppError(err) ? err.message : String(err));
  process.exit(isAppError(err) ? 65 : 1);
}
