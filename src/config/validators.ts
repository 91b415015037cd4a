/**
 * The configuration files' validators, all from one Ajv instance. Run from source (tsx, the
 * tests), they are compiled here when this module loads. The production bundle (src/bundle.ts)
 * replaces this module with the same validators generated ahead of time as Ajv standalone code,
 * so that the daemon does not compile schemas while it starts (ADR 0020). Both come from
 * `VALIDATORS` and `AJV_OPTIONS`, so they cannot drift apart.
 */
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { calendarSchema, configSchema, proceduresSchema } from './schema.js';

export const AJV_OPTIONS: Options = { allErrors: false, strict: false };

/** Export name → the schema it checks. */
export const VALIDATORS = {
  validateConfig: configSchema,
  validateProcedures: proceduresSchema,
  validateCalendar: calendarSchema,
} as const;

const ajv = new Ajv(AJV_OPTIONS);
export const validateConfig: ValidateFunction = ajv.compile(VALIDATORS.validateConfig);
export const validateProcedures: ValidateFunction = ajv.compile(VALIDATORS.validateProcedures);
export const validateCalendar: ValidateFunction = ajv.compile(VALIDATORS.validateCalendar);
