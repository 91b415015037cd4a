/** The cabinet map: buses, boards and trays. Pure data, checked at start-up. */

export type TraySize = 'S' | 'M' | 'L';
export type TrayRole = 'deposit' | 'result' | 'both';
export const TRAY_SIZES: readonly TraySize[] = ['S', 'M', 'L'];
export const TRAY_ROLES: readonly TrayRole[] = ['deposit', 'result', 'both'];

/**
 * How a board is told to release a lock.
 * - `waveshare-flash`: the board times the pulse itself (FC05 to 0x0200 + channel, value = pulse
 *   length in 100 ms units), so a controller crash mid-pulse cannot leave a coil powered.
 * - `coil-pulse`: a plain coil written on (FC05 0xFF00) then off after `pulseMs`, timed by us.
 */
export type BoardProfile = 'waveshare-flash' | 'coil-pulse';
export const BOARD_PROFILES: readonly BoardProfile[] = ['waveshare-flash', 'coil-pulse'];

export interface BusSpec {
  id: string;
  /** Serial device (RS-485 adapter), e.g. /dev/ttyUSB0. Exactly one of `path` or `host` is set. */
  path?: string;
  /** RS-485/Ethernet gateway speaking RTU frames over TCP. */
  host?: string;
  port?: number;
  baudRate: number;
  /** Timeout of one request, in ms. */
  timeoutMs: number;
  /** Further attempts after a request times out or fails its CRC. */
  retries: number;
  /** Character framing on the line; default `even` (8E1, the Modbus serial-line default). */
  parity?: SerialParity;
  /** Data bits per character; Modbus RTU carries 8-bit bytes. */
  dataBits?: 8;
  /** Stop bits; default 1. Without parity the Modbus spec asks for 2 (8N2), many boards use 1 (8N1). */
  stopBits?: 1 | 2;
}

export type SerialParity = 'none' | 'even' | 'odd';
export const SERIAL_PARITIES: readonly SerialParity[] = ['none', 'even', 'odd'];

export interface BoardSpec {
  id: string;
  bus: string;
  unitId: number;
  profile: BoardProfile;
  /** Number of lock outputs (coils) on the board. */
  outputs: number;
  /** Number of discrete inputs (door switches) on the board. */
  inputs: number;
  /** FC02 address of the first door input (0 on most boards). */
  inputBase?: number;
  /** Coil address of the first lock output for coil-pulse boards (0 on most boards). */
  outputBase?: number;
}

export interface TraySpec {
  number: number;
  cabinet: string;
  board: string;
  /** Lock output channel on the board, 0-based. */
  lockChannel: number;
  /** Door switch input on the board, 0-based. */
  doorInput: number;
  size: TraySize;
  role: TrayRole;
}

/** GPIO wiring of one tray, used by the GPIO driver instead of boards. */
export interface GpioTraySpec {
  tray: number;
  lockPin: number;
  doorPin: number;
  /** Door switch reads 0 when the door is closed (the usual reed-switch-to-ground wiring). */
  doorActiveLow?: boolean;
  lockActiveLow?: boolean;
}

export interface CabinetSpec {
  id: string;
  name: string;
  /** Columns of trays as the cabinet looks from the front (for drawing it). */
  columns: number;
}

export interface CabinetMap {
  cabinets: CabinetSpec[];
  buses: BusSpec[];
  boards: BoardSpec[];
  trays: TraySpec[];
  gpio?: GpioTraySpec[];
}
