/**
 * The depositor of each dossier a round collects, for the officer's screen (docs/id-card.md): the
 * name and the masked ID number of a deposit made with a scanned card. Only the staff's HTTP answer
 * carries them: the retained `rounds/next` (MQTT) is a published contract and names nobody.
 */
import type { Manifest } from '../domain/events.js';
import type { StaffManifest } from '../domain/api-id-cards.js';
import { maskIdNumber } from '../domain/citizen-id.js';
import { lookupCode } from '../domain/dossier-code.js';
import type { IdVault } from '../domain/id-vault.js';
import type { Logger } from 'pino';
import type { Database, HolderStore } from './ports.js';

export class RoundHolders {
  constructor(private readonly deps: { db: Database; holders: HolderStore; vault: Pick<IdVault, 'open'>; logger: Logger }) {}

  /** The manifest with `holder` on each collected deposit made with a card. */
  async add(manifest: Manifest): Promise<StaffManifest> {
    const codes = manifest.collect.map((i) => lookupCode(i.dossierCode)).filter((c): c is string => c !== null);
    const rows = await this.deps.holders.sealedByCodes(this.deps.db, [...new Set(codes)]);
    if (!rows.some((r) => r.holderEnc)) return manifest;
    return {
      ...manifest,
      collect: manifest.collect.map((item) => {
        const code = lookupCode(item.dossierCode);
        // An online number may name more than one deposit (ADR 0029): only the newest in this tray
        // is this item's; no name rather than another visit's.
        const row = rows.find((r) => r.code === code && r.tray === item.tray);
        if (!row?.holderEnc) return item;
        try {
          const holder = this.deps.vault.open(row.holderEnc);
          return { ...item, holder: { fullName: holder.fullName, idNumberMasked: maskIdNumber(holder.idNumber) } };
        } catch {
          this.deps.logger.error({ tray: item.tray }, "a deposit's sealed holder does not open with this locker's key");
          return item;
        }
      }),
    };
  }
}
