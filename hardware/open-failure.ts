/**
 * What a link that does not open says, in the bus's health, the log and the admin screen: the
 * missing serial port by name rather than the serial library's errno text.
 */
import { existsSync } from 'node:fs';

export function describeOpenFailure(busId: string, where: string, serialPath: string | undefined, err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  if (serialPath !== undefined) {
    if (!existsSync(serialPath)) {
      return `bus ${busId}: serial port ${serialPath} not found (RS-485 adapter unplugged, or no udev rule gives it this name: deploy/udev/)`;
    }
    if (/permission denied|EACCES/i.test(message)) {
      return `bus ${busId}: serial port ${serialPath}: permission denied (the daemon's user must be in the dialout group)`;
    }
  }
  return `bus ${busId}: cannot open ${where}: ${message}`;
}
