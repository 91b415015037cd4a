/** Ports: The simulated cabinet's controls (present only with the simulator driver; hardware/ builds them, the simulator routes and panel use them). */

export interface SimTray {
  tray: number;
  board: string;
  door: 'open' | 'closed';
  latched: boolean;
}

export interface SimulatorControls {
  /** The board faults the simulator can inject (`none` clears one). */
  readonly faultKinds: readonly string[];
  trays(): SimTray[];
  boards(): { id: string; unitId: number; fault: string }[];
  /** Opens or closes a door; opening a latched door fails unless forced. */
  setDoor(tray: number, open: boolean, force: boolean): { ok: boolean; reason?: string };
  /** False when the board is not in the simulated cabinet. */
  setFault(board: string, fault: string, delayMs?: number): boolean;
  pulses(): { tray: number | null; board: string; channel: number; at: Date }[];
  clockOffsetMs(): number;
  setClockOffsetMs(ms: number): Date;
  /** Texts the console SMS gateway "sent", newest last (absent with a real gateway). */
  smsInbox?(): { id: string; to: string; text: string; kind: string; at: Date }[];
  /** Creates a demo account and returns its bearer token, so the demo can try the staff and admin screens. */
  demoToken?(role: 'admin' | 'staff'): Promise<string>;
}
