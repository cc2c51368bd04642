import 'reflect-metadata';
import { loadConfig } from '../../../src/config/app-config';
import { ProviderDto } from '../../../src/providers/dto/provider.dto';
import { ProviderRegistryService } from '../../../src/providers/provider-registry.service';
import { ProvidersController } from '../../../src/providers/providers.controller';

describe('ProvidersController', () => {
  const registry = new ProviderRegistryService(
    loadConfig({ CEREBRAS_API_KEY: 'csk-very-secret-0001', OPENAI_API_KEY: 'sk-very-secret-0002' }),
  );
  const controller = new ProvidersController(registry);

  it('lists every record without secrets, plus envFallbackAvailable', () => {
    const { data } = controller.list();
    expect(data.map((p) => p.id)).toEqual(registry.ids());
    expect(data.every((p) => p instanceof ProviderDto)).toBe(true);
    expect(data.find((p) => p.id === 'cerebras')).toMatchObject({
      envKey: 'CEREBRAS_API_KEY',
      envFallback: true,
      envFallbackAvailable: true,
    });
    expect(data.find((p) => p.id === 'groq')?.envFallbackAvailable).toBe(false);
    expect(data.find((p) => p.id === 'anthropic')?.headers).toEqual({
      'anthropic-version': '2023-06-01',
    });
    const json = JSON.stringify({ data });
    expect(json).not.toContain('very-secret');
  });

  it('shows credential-like fixed headers by name only', () => {
    const dto = ProviderDto.from(
      {
        ...registry.require('openai'),
        headers: { 'cf-aig-authorization': 'Bearer gw', 'x-team': 'ml' },
      },
      false,
    );
    expect(dto.headers).toEqual({ 'cf-aig-authorization': '[redacted]', 'x-team': 'ml' });
  });
});
