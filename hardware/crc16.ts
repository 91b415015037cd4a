/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), as appended low byte first to every RTU frame. */

const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    }
    table[n] = crc;
  }
  return table;
})();

export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]) & 0xff];
  }
  return crc;
}
