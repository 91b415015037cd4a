/**
 * The audit trail's guard (docs/adr/0013-audit-hash-chain.md): verifies the locker's hash chain
 * and publishes its head retained on MQTT every few minutes, so that a database rewritten since
 * (rows edited and hashed again, the last rows deleted) no longer agrees with the broker's copy.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { AuditAnchor, AuditChainStore, AuditHead, AuditHeadPublisher, AuditVerdict, Database } from './ports.js';

export interface AuditTrailDeps {
  db: Database;
  chain: AuditChainStore;
  publisher: AuditHeadPublisher;
  clock: Clock;
  logger: Logger;
}

export class AuditTrail {
  /** The last head this process published: it must stay in the chain, unchanged. */
  private published: { head: AuditHead; at: Date } | null = null;

  constructor(private readonly deps: AuditTrailDeps) {}

  /**
   * Verifies the chain from its first row, against the last head this process published and
   * `anchor` (a head read from the broker, say). A broken chain is also logged as an error.
   */
  async verify(anchor?: Omit<AuditAnchor, 'from'>): Promise<AuditVerdict> {
    const anchors: AuditAnchor[] = [];
    if (this.published) {
      const { head, at } = this.published;
      anchors.push({ seq: head.seq, hash: head.hash, from: `the head published at ${at.toISOString()}` });
    }
    if (anchor) anchors.push({ ...anchor, from: 'the head given' });
    const verdict = await this.deps.chain.verify(this.deps.db, anchors);
    if (verdict.broken) this.deps.logger.error({ broken: verdict.broken }, 'the audit chain is broken');
    return verdict;
  }

  /** Reads the chain's head and publishes it (retained). */
  async publishHead(): Promise<AuditHead> {
    const head = await this.deps.chain.head(this.deps.db);
    const at = this.deps.clock.now();
    await this.deps.publisher.publishHead(head, at);
    this.published = { head, at };
    return head;
  }
}
