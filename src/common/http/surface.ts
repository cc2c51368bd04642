/** The proxy surface answers in the OpenAI error envelope; everything else in problem details. */
export function isProxySurface(url: string): boolean {
  return url.startsWith('/v1/') || url === '/v1' || url.startsWith('/proxy/');
}
