/**
 * The embedded MQTT broker (aedes) for a machine with no broker of its own: listens on loopback
 * only, keeps sessions and retained messages in memory. Used when `MQTT_URL` is unset; production
 * points `MQTT_URL` at Mosquitto or a cluster instead.
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';

export interface EmbeddedBrokerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  logger: Logger;
}

export class EmbeddedBroker {
  private broker: Aedes | null = null;
  private server: net.Server | null = null;
  private readonly log: Logger;
  private url: string | null = null;

  constructor(private readonly options: EmbeddedBrokerOptions) {
    this.log = options.logger.child({ module: 'mqtt-broker' });
  }

  async start(): Promise<{ url: string }> {
    if (this.url) return { url: this.url };
    const host = this.options.host ?? '127.0.0.1';
    const broker = await Aedes.createBroker();
    broker.on('clientError', (client, err) => this.log.debug({ err, clientId: client.id }, 'broker client error'));
    broker.on('connectionError', (_client, err) => this.log.debug({ err }, 'broker connection error'));
    const server = net.createServer((socket) => broker.handle(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.options.port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      throw err;
    }
    server.on('error', (err) => this.log.error({ err }, 'embedded broker server error'));
    const address = server.address() as net.AddressInfo;
    this.broker = broker;
    this.server = server;
    this.url = `mqtt://${host}:${address.port}`;
    this.log.info({ url: this.url }, 'embedded MQTT broker (aedes) listening');
    return { url: this.url };
  }

  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = this.server = null;
    this.url = null;
    if (!broker || !server) return;
    // aedes closes its clients; then the listener can close without waiting on them.
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.log.info('embedded MQTT broker stopped');
  }
}
