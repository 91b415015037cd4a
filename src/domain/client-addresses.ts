/**
 * Client addresses as the HTTP server sees them (the socket's peer; no proxy header is trusted):
 * a list of exact addresses and CIDR ranges (`127.0.0.1`, `::1`, `192.168.10.0/24`, `fd00::/8`),
 * and whether an address is in it. An IPv4 address written as IPv4-mapped IPv6
 * (`::ffff:127.0.0.1`, what a dual-stack socket reports) is the IPv4 address.
 */
import { BlockList, isIP } from 'node:net';

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The address in its plain form: an IPv4-mapped IPv6 address as IPv4, any other as given. */
export function plainAddress(address: string): string {
  return MAPPED_V4.exec(address)?.[1] ?? address;
}

interface Range {
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix: number;
}

function parseRange(entry: string): Range | string {
  const [raw, prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return 'must be an address or a CIDR range such as 192.168.10.0/24';
  const address = plainAddress(raw);
  const version = isIP(address);
  if (version === 0) return `"${entry}" is not an IP address or a CIDR range`;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, family, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return `"${entry}": the prefix length must be 0 to ${max}`;
  return { address, family, prefix: Number(prefixText) };
}

/** Why an entry of an address list is not valid, or null when it is. */
export function addressEntryProblem(entry: string): string | null {
  const range = parseRange(entry);
  return typeof range === 'string' ? range : null;
}

/** A test of membership in the list (entries checked with `addressEntryProblem` first: a bad one throws). */
export function addressMatcher(entries: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const range = parseRange(entry);
    if (typeof range === 'string') throw new Error(`address list: ${range}`);
    list.addSubnet(range.address, range.prefix, range.family);
  }
  return (address) => {
    if (!address) return false;
    const plain = plainAddress(address);
    const version = isIP(plain);
    if (version === 0) return false;
    try {
      return list.check(plain, version === 4 ? 'ipv4' : 'ipv6');
    } catch {
      return false; // e.g. a link-local address with a zone (fe80::1%eth0)
    }
  };
}
