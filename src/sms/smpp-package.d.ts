// Types for the parts of the `smpp` package (node-smpp 0.5, no types of its own) that the SMPP
// gateway and its tests use. Named smpp-package.d.ts, not smpp.d.ts: beside smpp.ts, TypeScript
// would take a smpp.d.ts for that file's own declarations and ignore it.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { AddressInfo, Server as NetServer, Socket } from 'node:net';

  /** A request or response; fields are named as in the SMPP specification. */
  export class PDU {
    constructor(command: string, fields?: Record<string, unknown>);
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: any;
    isResponse(): boolean;
    response(fields?: Record<string, unknown>): PDU;
  }

  type Callback = (pdu: PDU) => void;

  export class Session extends EventEmitter {
    socket: Socket;
    /** false if the socket is not writable (nothing was sent). */
    send(pdu: PDU, responseCallback?: Callback, sendCallback?: Callback): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    bind_transceiver(fields: Record<string, unknown>, responseCallback?: Callback): boolean;
    submit_sm(fields: Record<string, unknown>, responseCallback?: Callback): boolean;
    deliver_sm(fields: Record<string, unknown>, responseCallback?: Callback): boolean;
    enquire_link(fields?: Record<string, unknown>, responseCallback?: Callback): boolean;
    unbind(fields?: Record<string, unknown>, responseCallback?: Callback): boolean;
  }

  export class Server extends NetServer {
    sessions: Session[];
    address(): AddressInfo;
  }

  export function connect(
    options: { host?: string | null; port?: number; url?: string; auto_enquire_link_period?: number } | string,
    listener?: () => void,
  ): Session;
  export function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;
  export function createServer(listener?: (session: Session) => void): Server;

  /** command_status values by name (ESME_ROK, ESME_RBINDFAIL, …). */
  export const errors: Record<string, number>;
  export const ESME_ROK: number;
  export const ESME_RBINDFAIL: number;
  export const ESME_RINVPASWD: number;
  export const ESME_RSUBMITFAIL: number;
  export const ESME_RSYSERR: number;
  export const ESME_RTHROTTLED: number;
}
