import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { fail } from '../core/errors.js';

/**
 * Where a connection may go. A server that pulls images named by its users must not be steered
 * into this machine or its private networks (SSRF): every hop — the registry, its token realm,
 * the blob storage it redirects to — is checked at connect time against the addresses the name
 * resolves to, so a name that resolves to 127.0.0.1, or a redirect to one, is refused however it
 * is spelled. Addresses are compared in canonical form (node's BlockList parses every IPv6
 * spelling and v4-mapped addresses).
 */
export interface ConnectPolicy {
  /** Hosts (`name` or `name:port`) that may be reached whatever they resolve to (an operator's allow-list). */
  readonly allowHosts?: readonly string[];
}

/** Loopback, private, link-local, shared (CGNAT), unspecified, site-local and other non-public ranges. */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64: the embedded IPv4 address could be a private one
  ['2002::', 16], // 6to4: likewise
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(network, prefix, 'ipv6');

/** True for an address this machine or a private network answers (any spelling, v4-mapped included). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** `[::1]` → `::1`: the host part of a URL as an address or a name. */
export const bareHost = (hostname: string): string => hostname.replace(/^\[|\]$/g, '');

function allowedByName(policy: ConnectPolicy, host: string, port: string): boolean {
  const allow = policy.allowHosts ?? [];
  const name = host.toLowerCase();
  return allow.includes(name) || allow.includes(`${name}:${port}`) || allow.includes(`[${name}]:${port}`);
}

/** The error every refused hop gets: the same whatever the address, so it tells nothing about the network. */
export const forbiddenHost = (host: string) =>
  fail(
    'E_REFERENCE_FORBIDDEN',
    `${host} is not reachable from this server: it is on this machine or a private network, or its name does not resolve`,
    'the operator can allow it: distrolens serve --allow-registry HOST',
  );

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * What a connection to `url` needs under a policy: undefined when it may go as it is (no policy,
 * an allowed name), a `lookup` for node:http / node:net that refuses private addresses after
 * resolving, or an error for an address literal that is private.
 */
export function guardConnect(
  url: URL,
  policy: ConnectPolicy | undefined,
): { lookup?: (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback) => void } {
  if (!policy) return {};
  const host = bareHost(url.hostname);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (allowedByName(policy, host, port)) return {};
  if (isIP(host)) {
    if (isPrivateAddress(host)) throw forbiddenHost(url.host);
    return {};
  }
  return {
    lookup: (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) return callback(error, []);
        const list = addresses;
        if (!list.length || list.some((a) => isPrivateAddress(a.address))) return callback(forbiddenHost(url.host), []);
        if ((options as LookupAllOptions).all) return callback(null, list);
        callback(null, list[0]!.address, list[0]!.family);
      });
    },
  };
}
