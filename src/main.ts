/**
 * `npm start` (tsx) and `npm run start:prod` (compiled): sets up what the daemon's dependencies
 * expect of the runtime, then loads the daemon (src/daemon.ts). The daemon is imported only
 * afterwards, so that no dependency is loaded before (in the bundle, it is a chunk of its own).
 */
import { provideNavigator } from './runtime.js';

provideNavigator();
await import('./daemon.js');
