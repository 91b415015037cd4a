/**
 * Writes the machine-readable contracts into docs/: the AsyncAPI document of the MQTT topics
 * (docs/asyncapi.json). The HTTP API's OpenAPI document is served by the daemon itself
 * (`/openapi.json`, `/docs`). A test fails when the file differs from what the code says.
 *
 *   npm run contracts
 */
import { writeFileSync } from 'node:fs';
import { VERSION } from './controller.js';
import { asyncApiDocument } from './events/asyncapi.js';

export const ASYNCAPI_FILE = new URL('../docs/asyncapi.json', import.meta.url);

/** The document as committed: two-space JSON and a final newline. */
export function asyncApiText(): string {
  return `${JSON.stringify(asyncApiDocument({ version: VERSION }), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(ASYNCAPI_FILE, asyncApiText());
  console.log(`wrote ${ASYNCAPI_FILE.pathname}`);
}
