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

/** The four octets of a dotted-quad IPv4 address (decimal, leading zeros allowed), or undefined. */
function parseIpv4(text: string): number[] | undefined {
  const match = IPV4.exec(text);
  const octets = match?.slice(1).map(Number);
  return octets?.every((octet) => octet <= 255) ? octets : undefined;
}

/**
 * The eight 16-bit groups of an IPv6 address, or undefined. The URL parser validates the address and
 * writes it in its one canonical form (lowercase, zeros compressed, an embedded IPv4 part in hex),
 * which leaves only the `::` to expand.
 */
function parseIpv6(text: string): number[] | undefined {
  let host: string;
  try {
    host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = "", tail] = host.split("::");
  const groups = (part: string): number[] => (part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

export function clientKey(address: string | null): string {
  if (address === null) return UNKNOWN_CLIENT;
  let text = address.trim().toLowerCase();
  const ipv4 = parseIpv4(text);
  if (ipv4 !== undefined) return ipv4.join(".");
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  // A zone ("%eth0") names the receiving interface, not the client.
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
