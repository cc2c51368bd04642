import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { AppError } from '../common/errors/app-error';
import { ConfigError } from '../config/app-config';
import { normalizeBaseUrl } from '../providers/provider-loader';

/** Addresses no key's base URL may reach unless an allowlisted CIDR covers them. */
const SPECIAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  SPECIAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 127], // :: and ::1
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  SPECIAL.addSubnet(net, prefix, 'ipv6');

const HOST_PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

export type Resolve = (host: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

const family = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');
/** `::ffff:10.0.0.1` (or `::ffff:a00:1`, as URLs write it) is 10.0.0.1 on the wire. */
function unmapped(address: string): string {
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) return address.slice(7);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return address;
  const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

function refuse(message: string): never {
  throw new AppError('validation_failed', `params.baseUrl ${message}`, {
    details: { fields: ['params.baseUrl'] },
  });
}

/**
 * CUSTOM_BASE_URL_ALLOWLIST: where a key's own base URL (a self-hosted vLLM, Ollama, LM Studio)
 * may point. An entry is a host pattern (`vllm.internal`, `*.corp.example`) or a CIDR
 * (`10.20.0.0/16`, `fd00::/8`); empty (the default) allows none. A URL is allowed when its host
 * matches a pattern or every address it resolves to is in a listed CIDR, and never when it
 * resolves to a private, loopback, link-local or other special address that no CIDR lists.
 *
 * The same check runs at save and at use. At use it runs inside the connection's DNS lookup, so
 * the address checked is the address connected to (a name that resolves differently the second
 * time cannot move the connection); redirects are never followed (UpstreamClient).
 */
export class CustomBaseUrlPolicy {
  private readonly hosts: string[] = [];
  private readonly cidrs = new BlockList();
  private cidrCount = 0;

  constructor(
    entries: readonly string[],
    private readonly resolve: Resolve = systemResolve,
  ) {
    for (const raw of entries) {
      const entry = raw.toLowerCase();
      const slash = entry.indexOf('/');
      if (slash > 0 && isIP(entry.slice(0, slash))) {
        const net = entry.slice(0, slash);
        const prefix = Number(entry.slice(slash + 1));
        const max = isIP(net) === 6 ? 128 : 32;
        if (!/^\d+$/.test(entry.slice(slash + 1)) || prefix > max)
          throw new ConfigError(`CUSTOM_BASE_URL_ALLOWLIST: "${raw}" has a bad prefix length`);
        this.cidrs.addSubnet(net, prefix, family(net));
        this.cidrCount++;
      } else if (isIP(entry)) {
        this.cidrs.addAddress(entry, family(entry));
        this.cidrCount++;
      } else if (HOST_PATTERN.test(entry)) this.hosts.push(entry);
      else
        throw new ConfigError(
          `CUSTOM_BASE_URL_ALLOWLIST: "${raw}" is neither a host pattern (vllm.internal, *.corp.example) nor a CIDR (10.0.0.0/8)`,
        );
    }
  }

  get enabled(): boolean {
    return this.hosts.length + this.cidrCount > 0;
  }

  private hostListed(host: string): boolean {
    return this.hosts.some((p) =>
      p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p,
    );
  }

  private inCidr(address: string): boolean {
    const a = unmapped(address);
    return this.cidrs.check(a, family(a));
  }

  /** Why an address may not be used for this host, or undefined when it may. */
  private addressProblem(host: string, address: string): string | undefined {
    const a = unmapped(address);
    if (this.inCidr(a)) return undefined;
    if (SPECIAL.check(a, family(a)))
      return `reaches ${a}, a private, loopback or link-local address that CUSTOM_BASE_URL_ALLOWLIST does not list`;
    if (!this.hostListed(host))
      return `host "${host}" is not allowed by CUSTOM_BASE_URL_ALLOWLIST (nor is ${a})`;
    return undefined;
  }

  /** Normalises and checks a key's base URL (at save and before use); throws a 400 if refused. */
  async check(value: string): Promise<string> {
    if (!this.enabled)
      refuse(
        'cannot be set: the operator allows no custom base URLs (CUSTOM_BASE_URL_ALLOWLIST is empty)',
      );
    let normalized: string;
    try {
      normalized = normalizeBaseUrl(value);
    } catch (e) {
      refuse((e as Error).message);
    }
    const host = new URL(normalized).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const addresses = isIP(host) ? [host] : await this.resolveOrRefuse(host);
    for (const { address } of addresses.map((a) => (typeof a === 'string' ? { address: a } : a))) {
      const problem = this.addressProblem(host, address);
      if (problem) refuse(problem);
    }
    return normalized;
  }

  /** Before each use: a base URL whose host is an IP literal (no lookup runs for it). */
  async checkLiteral(url: string): Promise<void> {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) await this.check(new URL(url).origin);
  }

  private async resolveOrRefuse(host: string): Promise<LookupAddress[]> {
    try {
      const found = await this.resolve(host);
      if (!found.length) throw new Error('no address');
      return found;
    } catch {
      return refuse(`host "${host}" does not resolve`);
    }
  }

  /**
   * A `lookup` for the sockets of custom base URLs: it resolves, checks every address as
   * `check` does, and hands the socket the first allowed one, so the address checked is the
   * address connected to.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const host = hostname.toLowerCase();
    this.resolve(host).then(
      (found) => {
        const allowed = found.find((a) => !this.addressProblem(host, a.address));
        if (!allowed || found.some((a) => this.addressProblem(host, a.address))) {
          const err = Object.assign(new Error(`${host} resolves to an address not allowed`), {
            code: 'BYOK_ADDRESS_REFUSED',
          });
          return callback(err, '', 4);
        }
        if ((options as { all?: boolean }).all)
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [allowed]);
        callback(null, allowed.address, allowed.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  };
}
