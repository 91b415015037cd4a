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

  /** `target`: a TCP address, or a Unix socket `path` (the embedded PostgreSQL's). */
  static async start(target: { host: string; port: number } | { path: string }, t?: Teardown): Promise<TcpProxy> {
    // Assigned once the server listens; the connection handler only runs after that.
    // eslint-disable-next-line prefer-const
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
    u.searchParams.delete('host');
    return u.toString().replace(/\/$/, '');
  }

  /**
   * Where a PostgreSQL URL points: its TCP address, or the Unix socket of a URL whose `host` is
   * a directory (`postgres://u:p@/db?host=/dir`, or a percent-encoded directory as the host).
   */
  static postgresTarget(url: string): { host: string; port: number } | { path: string } {
    const u = new URL(url);
    const port = Number(u.port || 5432);
    const dir = u.searchParams.get('host') ?? (u.hostname.startsWith('%2F') ? decodeURIComponent(u.hostname) : null);
    if (dir && dir.startsWith('/')) return { path: `${dir}/.s.PGSQL.${port}` };
    return { host: u.hostname, port };
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

  private onConnection(downstream: net.Socket, target: { host: string; port: number } | { path: string }): void {
    if (this.refusing) {
      downstream.destroy();
      return;
    }
    this.accepted += 1;
    const upstream = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
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
