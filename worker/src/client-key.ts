/**
 * The rate-limit key of a client address (CF-Connecting-IP).
 *
 * IPv4 addresses count one by one. IPv6 addresses count by /64: one subscriber usually holds a whole
 * /64 and can pick any address in it, so per-address buckets would let one client multiply its
 * budget by 2^64. Addresses are normalised first, so every spelling of one address (leading zeros,
 * case, `::` compression, an IPv4 address mapped into IPv6) lands in the same bucket.
 */

/** Key of requests whose address is missing or unparseable (local tools only: the edge always sets it). */
export const UNKNOWN_CLIENT = "unknown";

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/** The four octets of a dotted-quad IPv4 address, or undefined. */
function parseIpv4(text: string): number[] | undefined {
  const match = IPV4.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

/** The eight 16-bit groups of an IPv6 address (zone and brackets already removed), or undefined. */
function parseIpv6(text: string): number[] | undefined {
  let head = text;
  let embedded: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    const octets = parseIpv4(text.slice(lastColon + 1));
    if (octets === undefined) return undefined;
    embedded = [(octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!];
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::", "a::1.2.3.4" leaves "a::", "a:b:c:d:e:f:1.2.3.4" leaves "a:…:f:".
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    for (const piece of part.split(":")) {
      if (!HEXTET.test(piece)) return undefined;
      out.push(Number.parseInt(piece, 16));
    }
    return out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (left === undefined || right === undefined) return undefined;
  const given = left.length + right.length + embedded.length;
  if (halves.length === 2) {
    if (given > 7) return undefined;
    return [...left, ...new Array<number>(8 - given).fill(0), ...right, ...embedded];
  }
  return given === 8 ? [...left, ...embedded] : undefined;
}

export function clientKey(address: string | null): string {
  if (address === null) return UNKNOWN_CLIENT;
  let text = address.trim().toLowerCase();
  const ipv4 = parseIpv4(text);
  if (ipv4 !== undefined) return ipv4.join(".");
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const zone = text.indexOf("%");
  if (zone !== -1) text = text.slice(0, zone);
  const groups = parseIpv6(text);
  if (groups === undefined) return UNKNOWN_CLIENT;
  // ::ffff:a.b.c.d is the IPv4 client a.b.c.d seen through a dual-stack socket.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [high, low] = [groups[6]!, groups[7]!];
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(":")}::/64`;
}
