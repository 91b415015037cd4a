/**
 * A stand-in for systemd's notify socket in tests: a Unix datagram socket (Node has none, so a few
 * lines of Perl, which every Debian has) that prints each message. It drops the descriptor that
 * systemd-notify's barrier sends, as systemd does, so systemd-notify returns at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface NotifySocket {
  path: string;
  /** Every message so far, newlines inside a message shown as "|". */
  messages: string[];
  /** The next message (after those already taken by next()) that matches. */
  next(match: RegExp, ms?: number): Promise<string>;
}

const RECEIVER = `
use IO::Socket::UNIX; use Socket; $| = 1;
my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0]) or die "socket: $!";
print "listening\\n";
while (1) { my $m; defined($s->recv($m, 4096)) or die "recv: $!"; $m =~ s/\\n/|/g; print "$m\\n"; }
`;

export async function notifySocket(t: Teardown): Promise<NotifySocket> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atm247-notify-'));
  const socket = path.join(dir, 'notify.sock');
  const receiver: ChildProcess = spawn('perl', ['-e', RECEIVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    receiver.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const messages: string[] = [];
  let buffered = '';
  let listening: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  receiver.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line === 'listening') listening();
      else messages.push(line);
    }
  });
  await ready;
  let seen = 0;
  return {
    path: socket,
    messages,
    async next(match, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        while (seen < messages.length) {
          const message = messages[seen++];
          if (match.test(message)) return message;
        }
        if (Date.now() > deadline) throw new Error(`no notification matching ${match} within ${ms} ms; got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
