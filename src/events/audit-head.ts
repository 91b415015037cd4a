/** The audit chain's head, retained on `audit/head` (docs/adr/0013-audit-hash-chain.md). */
import type { AuditHead, AuditHeadPublisher } from '../services/ports.js';
import type { RetainedState } from './retained.js';

export class RetainedAuditHead implements AuditHeadPublisher {
  constructor(private readonly retained: () => RetainedState) {}

  publishHead(head: AuditHead, at: Date): Promise<boolean> {
    return this.retained().publishRetained('audit/head', { at: at.toISOString(), seq: head.seq, id: head.id, hash: head.hash });
  }
}
