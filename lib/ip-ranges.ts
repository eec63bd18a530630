/**
 * IP addresses and CIDRs of a token's request-IP condition, as ranges. Pure.
 *
 * node:net's isIP accepts an IPv6 zone index (`fe80::1%eth0`), which names an interface of one
 * machine and means nothing to Cloudflare: refused here. Ranges are compared as BigInt intervals so
 * "every address the allow list admits is denied" can be decided exactly.
 */
import { isIPv4, isIPv6 } from "node:net";

export type Family = 4 | 6;

export interface Cidr {
  /** As written. */
  readonly text: string;
  readonly family: Family;
  readonly prefix: number;
  /** First and last address of the range. */
  readonly first: bigint;
  readonly last: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

function ipv4ToBigInt(address: string): bigint {
  return address.split(".").reduce((sum, part) => (sum << 8n) + BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  let text = address;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const value = ipv4ToBigInt(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(value >> 16n).toString(16)}:${(value & 0xffffn).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...tailParts];
  return parts.reduce((sum, part) => (sum << 16n) + BigInt(parseInt(part, 16)), 0n);
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; problem: string };

/** Parses an address or CIDR ("203.0.113.0/24", "2001:db8::/32", "198.51.100.7"). */
export function parseCidr(text: string): CidrParse {
  const invalid = {
    ok: false as const,
    problem: "must be an IPv4/IPv6 address or CIDR such as 203.0.113.0/24",
  };
  if (text.includes("%")) {
    return {
      ok: false,
      problem:
        "carries an IPv6 zone index ('%'), which names a local interface; write the address without it",
    };
  }
  const [address = "", prefixText, ...rest] = text.split("/");
  if (rest.length > 0) return invalid;
  const family: Family | 0 = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
  if (family === 0) return invalid;
  const bits = BITS[family];
  if (prefixText !== undefined && !/^(0|[1-9]\d{0,2})$/.test(prefixText)) return invalid;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return invalid;
  const value = family === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const hostBits = BigInt(bits - prefix);
  const first = (value >> hostBits) << hostBits;
  const last = first + (1n << hostBits) - 1n;
  return { ok: true, cidr: { text, family, prefix, first, last } };
}

/** Whether the union of `cover` contains every address of `range` (same family only). */
export function coveredBy(range: Cidr, cover: readonly Cidr[]): boolean {
  const sorted = cover
    .filter((cidr) => cidr.family === range.family)
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  let next = range.first;
  for (const cidr of sorted) {
    if (cidr.first > next) break;
    if (cidr.last >= next) next = cidr.last + 1n;
    if (next > range.last) return true;
  }
  return next > range.last;
}

/** The whole address space of a family. */
export function everything(family: Family): Cidr {
  return family === 4
    ? { text: "0.0.0.0/0", family, prefix: 0, first: 0n, last: (1n << 32n) - 1n }
    : { text: "::/0", family, prefix: 0, first: 0n, last: (1n << 128n) - 1n };
}
