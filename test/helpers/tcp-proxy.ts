/**
 * A loopback TCP proxy between a client and a server that a test can cut: `cut()` destroys every
 * connection through it (both sides, so the server sees the client vanish without a goodbye) and
 * refuses new ones until `resume()`. Used to simulate a broker outage without touching the broker.
 */
import net from 'node:net';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private refusing = false;
  /** Connections accepted (and passed through) so far. */
  accepted = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }, t?: Teardown): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = net.createServer((downstream) => proxy.onConnection(downstream, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    t?.teardown(() => proxy.close());
    return proxy;
  }

  /** `target` URL rewritten to go through the proxy (scheme, credentials and path kept). */
  urlFor(target: string): string {
    const u = new URL(target);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString().replace(/\/$/, '');
  }

  get open(): number {
    return this.sockets.size / 2;
  }

  /** Drops every connection now and refuses new ones. */
  cut(): void {
    this.refusing = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  resume(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(downstream: net.Socket, target: { host: string; port: number }): void {
    if (this.refusing) {
      downstream.destroy();
      return;
    }
    this.accepted += 1;
    const upstream = net.connect(target.port, target.host);
    const pair = [downstream, upstream];
    for (const s of pair) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        for (const other of pair) other.destroy();
      });
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  }
}
