/**
 * A fake HTTP SMS provider on loopback for the fault campaign: takes the daemon's requests in the
 * shape of config/default.yaml's `sms.http` (JSON body with Phone, Content, RequestId), records
 * every text, and answers like the configured success path (`{"CodeResult": "100", "SMSID": …}`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentText {
  seq: number;
  /** National form, 09xxxxxxxx. */
  to: string;
  text: string;
  requestId: string;
  atMs: number;
}

export class FakeSmsProvider {
  readonly texts: SentText[] = [];
  private server: http.Server | null = null;
  private waiters = new Set<() => void>();
  url = '';

  async start(): Promise<string> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: any;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"CodeResult":"99","ErrorMessage":"bad json"}');
          return;
        }
        const text: SentText = {
          seq: this.texts.length + 1,
          to: String(body?.Phone ?? ''),
          text: String(body?.Content ?? ''),
          requestId: String(body?.RequestId ?? ''),
          atMs: Date.now(),
        };
        this.texts.push(text);
        for (const wake of this.waiters) wake();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ CodeResult: '100', SMSID: `sim-${text.seq}` }));
      });
    });
    server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Texts to `phone` (national form) from `afterSeq` on. */
  to(phone: string, afterSeq = 0): SentText[] {
    return this.texts.filter((t) => t.to === phone && t.seq > afterSeq);
  }

  get lastSeq(): number {
    return this.texts.length;
  }

  /**
   * The newest one-time code texted to `phone` after `afterSeq`, waiting up to `timeoutMs` for
   * one; null if none came.
   * Once one came, a moment more for a later one: a request retried after its answer was lost
   * issued a second code, and only the newest one is good.
   */
  async codeFor(phone: string, afterSeq: number, timeoutMs: number, graceMs = 300): Promise<string | null> {
    const latest = (): string | null => {
      let code: string | null = null;
      for (const t of this.to(phone, afterSeq)) {
        // The code's own text ("UBNDQ6: Ma xac thuc ATM 24/7 la 12345678, …"): the result-ready text
        // also mentions "ma xac thuc", and an online-system dossier number in it has six digits in a row.
        const own = /M[aã] x[aá]c th[uự]c ATM 24\/7 l[aà] (\d{6,10})\b/i.exec(t.text);
        if (own) code = own[1];
      }
      return code;
    };
    const deadline = Date.now() + timeoutMs;
    while (!latest()) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 250));
        this.waiters.add(wake);
      });
    }
    await new Promise((r) => setTimeout(r, graceMs));
    return latest();
  }
}
