/**
 * The configuration's TypeScript types, derived from its JSON Schema (schema.ts) so the two cannot
 * drift: what the schema accepts is what the code receives. The cabinet map is typed by the domain
 * (src/domain/cabinet.ts), which the schema's `mapSchema` checks. What each setting means is said
 * in config/default.yaml beside it.
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { CabinetMap } from '../domain/cabinet.js';
import type { configSchema } from './schema.js';

type FromConfigSchema = FromSchema<typeof configSchema>;

export type HardwareConfig = Omit<FromConfigSchema['hardware'], 'map'> & { map: CabinetMap };
export type Config = Omit<FromConfigSchema, 'hardware'> & { hardware: HardwareConfig };
export type HardwareDriver = HardwareConfig['driver'];
export type SmsGatewayKind = Config['sms']['gateway'];
