/**
 * Whether a NetworkPolicy admits a peer, by the rules of networking.k8s.io/v1 as a CNI plugin
 * applies them (IPv4, matchLabels selectors; anything else fails loudly): test/deploy/cluster
 * reads the policies the API server stored and asks this about each example's dependencies.
 */

type Labels = Record<string, string>;

interface Selector {
  matchLabels?: Labels;
  matchExpressions?: unknown[];
}

interface PolicyPeer {
  namespaceSelector?: Selector;
  podSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface Rule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: { port?: number | string; protocol?: string; endPort?: number }[];
}

export interface Policy {
  metadata: { namespace: string };
  spec: { policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

/** The other end: a pod (namespace and pod labels) or an address outside the cluster. */
export interface Peer {
  namespaceLabels?: Labels;
  podLabels?: Labels;
  ip?: string;
  /** A number, or for ingress a named port of the selected pods. */
  port: number | string;
  protocol?: 'TCP' | 'UDP';
}

function matches(selector: Selector, labels: Labels): boolean {
  if (selector.matchExpressions?.length) throw new Error('matchExpressions are not evaluated here');
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function ipv4(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255)))
    throw new Error(`not an IPv4 address: ${address}`);
  return parts.reduce((n, p) => n * 256 + p, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4(base) / size) * size;
  return ipv4(ip) >= start && ipv4(ip) < start + size;
}

function peerMatches(rule: PolicyPeer, peer: Peer, policyNamespace: string): boolean {
  if (rule.ipBlock) {
    if (!peer.ip) return false;
    const { cidr, except = [] } = rule.ipBlock;
    return inCidr(peer.ip, cidr) && !except.some((e) => inCidr(peer.ip!, e));
  }
  if (!peer.namespaceLabels) return false;
  const inOwnNamespace = peer.namespaceLabels['kubernetes.io/metadata.name'] === policyNamespace;
  const namespaceOk = rule.namespaceSelector
    ? matches(rule.namespaceSelector, peer.namespaceLabels)
    : inOwnNamespace;
  const podOk = rule.podSelector ? matches(rule.podSelector, peer.podLabels ?? {}) : true;
  return namespaceOk && podOk;
}

export function allows(
  policy: Policy,
  direction: 'ingress' | 'egress',
  peer: Peer,
  namedPorts: Record<string, number>,
): boolean {
  const types = policy.spec.policyTypes ?? ['Ingress'];
  if (!types.includes(direction === 'ingress' ? 'Ingress' : 'Egress')) return true;
  const number = (p: number | string) => (typeof p === 'number' ? p : namedPorts[p]);
  const protocol = peer.protocol ?? 'TCP';
  return (policy.spec[direction] ?? []).some((rule) => {
    const portOk =
      !rule.ports?.length ||
      rule.ports.some(
        (p) =>
          (p.protocol ?? 'TCP') === protocol &&
          (p.port === undefined ||
            (p.endPort
              ? number(peer.port) >= number(p.port) && number(peer.port) <= p.endPort
              : number(p.port) === number(peer.port))),
      );
    const peers = (direction === 'ingress' ? rule.from : rule.to) ?? [];
    const peerOk =
      peers.length === 0 || peers.some((r) => peerMatches(r, peer, policy.metadata.namespace));
    return portOk && peerOk;
  });
}
