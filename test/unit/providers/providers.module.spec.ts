import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '../../../src/config/app-config';
import { ConfigModule } from '../../../src/config/config.module';
import { ProviderRegistryService } from '../../../src/providers/provider-registry.service';
import { ProvidersModule } from '../../../src/providers/providers.module';

// In-process only (Fastify inject, no port): checks DI of APP_CONFIG and the swagger metadata.
describe('ProvidersModule', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    @Module({
      imports: [
        ConfigModule.forRoot(loadConfig({ CEREBRAS_API_KEY: 'csk-wired-0001' })),
        ProvidersModule,
      ],
    })
    class TestModule {}
    app = await NestFactory.create<NestFastifyApplication>(TestModule, new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it('exports the registry and serves GET /api/providers', async () => {
    expect(app.get(ProviderRegistryService).ids()).toContain('gemini');
    const res = await app.inject({ method: 'GET', url: '/api/providers' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ data: { id: string; envFallbackAvailable: boolean }[] }>();
    expect(body.data).toHaveLength(14);
    expect(body.data[0]).toMatchObject({ id: 'cerebras', envFallbackAvailable: true });
    expect(res.body).not.toContain('csk-wired-0001');
  });

  it('documents the route and the DTO for swagger', () => {
    const doc = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    const op = doc.paths['/api/providers']?.get;
    expect(op?.tags).toEqual(['providers']);
    expect(JSON.stringify(op?.responses?.['200'])).toContain(
      '#/components/schemas/ProviderListDto',
    );
    const schemas = doc.components?.schemas ?? {};
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['ProviderDto', 'ProviderListDto', 'ProviderVerifyDto']),
    );
    expect(JSON.stringify(schemas.ProviderDto)).toContain('envFallbackAvailable');
  });
});
