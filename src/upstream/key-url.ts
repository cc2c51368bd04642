import type { KeyParams } from '../providers/key-params';
import type { ProviderRecord } from '../providers/provider.schema';
import { fillTemplate, isTemplate, standInOf } from '../providers/url-template';

type Templated = Pick<ProviderRecord, 'baseUrl' | 'openaiPrefix' | 'verify'>;

/** Whether a provider's URLs name key parameters, so each request's URL depends on its key. */
export function hasKeyUrl(p: Templated): boolean {
  return isTemplate(p.baseUrl) || isTemplate(p.openaiPrefix) || !!p.verify.baseUrl;
}

/**
 * The URL a request built on the provider's stand-in (see url-template) really goes to with
 * this key: the stand-in prefix (base + OpenAI prefix, base, or the verify base) becomes the
 * key's. The path after it is the client's and is kept byte for byte.
 */
export function keyUrl(url: string, p: Templated, params: KeyParams): string {
  const bases: [string, string][] = [
    [p.baseUrl, p.openaiPrefix],
    [p.baseUrl, ''],
    ...(p.verify.baseUrl ? [[p.verify.baseUrl, ''] as [string, string]] : []),
  ];
  for (const [base, prefix] of bases) {
    const standIn = `${standInOf(base)}${standInOf(prefix)}`;
    if (url === standIn || url.startsWith(`${standIn}/`) || url.startsWith(`${standIn}?`))
      return `${fillTemplate(base, params)}${fillTemplate(prefix, params)}${url.slice(standIn.length)}`;
  }
  throw new Error('upstream URL is not on the provider base URL');
}
