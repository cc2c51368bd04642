import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('byok-proxy')
    .setDescription(
      'Bring-your-own-key secrets proxy for LLM APIs. Keys are stored in Vault (or an encrypted local store) and injected into upstream requests; clients never see them. `/v1` is OpenAI-compatible and `/proxy/{provider}` passes through natively; errors there use the OpenAI envelope. `/api` errors are RFC 9457 problem details.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A JWT or a byok_ access token' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at /docs and the JSON at /docs/json. */
export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), { jsonDocumentUrl: 'docs/json' });
}
