/**
 * Texting citizens: every message is logged (kind, status, provider id — never the number or a
 * code) and sent through the configured gateway. A code that cannot be sent is an error the kiosk
 * shows; a notice that cannot be sent is recorded as failed and visible to admins.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import type { PhoneVault } from '../domain/phone-vault.js';
import type { Database, SmsGateway, SmsLog, SmsObserver } from './ports.js';

/** Renders a template: kind and parameters to the text in the configured style. */
export type SmsRenderer = (kind: string, params: Record<string, unknown>) => string;

export interface SmsServiceDeps {
  db: Database;
  gateway: Pick<SmsGateway, 'send'>;
  log: SmsLog;
  vault: PhoneVault;
  render: SmsRenderer;
  clock: Clock;
  logger: Logger;
  /** Told how the gateway answered each message (the metrics). */
  observer?: SmsObserver;
}

export class SmsService {
  constructor(private readonly deps: SmsServiceDeps) {}

  /** Sends a one-time code; throws SMS_FAILED if the gateway could not take it. */
  async sendCode(to: string, phoneHash: string, code: string, validMinutes: number): Promise<void> {
    await this.deliver('otp', to, phoneHash, null, this.deps.render('otp', { code, minutes: validMinutes }), true);
  }

  /**
   * Sends a notice to the phone kept (encrypted) with a dossier. Never throws: a failure is
   * recorded in the SMS log and logged. A dossier whose phone was cleared (retention) gets none.
   */
  async sendNotice(
    kind: string,
    phoneEnc: string | null,
    phoneHash: string | null,
    dossierId: string | null,
    params: Record<string, unknown>,
  ) {
    if (phoneEnc === null || phoneHash === null) {
      this.deps.logger.warn({ kind, dossierId }, 'no phone kept for this dossier (cleared after retention); notice not sent');
      return;
    }
    let to: string;
    try {
      to = this.deps.vault.decrypt(phoneEnc);
    } catch (err) {
      this.deps.logger.error({ err, kind, dossierId }, 'cannot read the stored phone number (wrong secret key?)');
      return;
    }
    await this.deliver(kind, to, phoneHash, dossierId, this.deps.render(kind, params), false).catch(() => undefined);
  }

  async recent(limit = 50) {
    return this.deps.log.recent(this.deps.db, limit);
  }

  async onDelivery(report: { providerMessageId: string; status: string; at: Date }): Promise<void> {
    await this.deps.log.delivered(this.deps.db, report.providerMessageId, report.status === 'delivered', report.at);
  }

  private async deliver(kind: string, to: string, phoneHash: string, dossierId: string | null, text: string, raise: boolean) {
    const { db, gateway, log, clock, logger, observer } = this.deps;
    const id = randomUUID();
    const message = raise ? 'code' : 'notice';
    await log.started(db, { id, kind, phoneHash, dossierId, at: clock.now() });
    let taken = false;
    try {
      const result = await gateway.send({ id, to, text, kind });
      taken = true;
      observer?.sms('sent', message);
      await log.sent(db, id, { ...result, attempts: 1 }, clock.now());
    } catch (err) {
      // Counted by how the gateway answered, not by whether the log could record it.
      if (!taken) observer?.sms('failed', message);
      const reason = err instanceof Error ? err.message : String(err);
      await log.failed(db, id, reason, 1);
      logger.warn({ kind, smsId: id, dossierId, reason }, 'SMS not sent');
      if (raise) {
        throw err instanceof AppError ? err : new AppError('SMS_FAILED', 'the text message could not be sent; try again in a minute');
      }
    }
  }
}
