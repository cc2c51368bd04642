/** The subprotocol browsers use to carry a credential (they cannot set headers on a WebSocket). */
export const CREDENTIAL_PROTOCOL = 'openai-insecure-api-key.';

export interface OfferedProtocols {
  /** The caller's credential, when one of the offered subprotocols carries it. */
  credential?: string;
  /** The other subprotocols, in the client's order: these go upstream. */
  forward: string[];
  /** The credential subprotocol as offered (a browser needs one of its offers echoed). */
  credentialProtocol?: string;
}

/** Splits `Sec-WebSocket-Protocol` into the caller's credential and the subprotocols to forward. */
export function readProtocols(header: string | string[] | undefined): OfferedProtocols {
  const list = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const out: OfferedProtocols = { forward: [] };
  for (const p of list) {
    if (!p.startsWith(CREDENTIAL_PROTOCOL)) out.forward.push(p);
    else if (out.credential === undefined) {
      out.credential = p.slice(CREDENTIAL_PROTOCOL.length);
      out.credentialProtocol = p;
    }
  }
  return out;
}

/**
 * The subprotocol to accept from the client: the one the provider chose; else, since a browser
 * fails a handshake that accepts none of its offers, the first it offered (its credential one
 * only when it offered nothing else: the client's own token, echoed to itself). False: none.
 */
export function acceptedProtocol(offered: OfferedProtocols, upstream: string): string | false {
  if (upstream) return upstream;
  return offered.forward[0] ?? offered.credentialProtocol ?? false;
}
