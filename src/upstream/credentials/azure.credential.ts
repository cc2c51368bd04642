import type { SecretValue } from '../../common/secret-value';
import type { KeyParams } from '../../providers/key-params';
import type { OutboundRequest } from '../provider-auth';

// Deployment routes need an api-version; the v1 API (`/openai/v1/…`) takes none.
const DEPLOYMENT_ROUTE = /\/openai\/deployments\//;

/** Azure OpenAI: the key in `api-key`, and the key's api-version where the client named none. */
export function applyAzure(request: OutboundRequest, secret: SecretValue, params: KeyParams): void {
  request.headers['api-key'] = secret.reveal();
  const url = new URL(request.url);
  if (
    DEPLOYMENT_ROUTE.test(url.pathname) &&
    !url.searchParams.has('api-version') &&
    params.apiVersion
  )
    request.url = `${request.url}${url.search ? '&' : '?'}api-version=${encodeURIComponent(params.apiVersion)}`;
}
