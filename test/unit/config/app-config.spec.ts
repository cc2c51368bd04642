import { ConfigError, loadConfig } from '../../../src/config/app-config';

describe('loadConfig', () => {
  it('runs on embedded defaults with no environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.secretStore).toBe('local');
    expect(c.database.url).toBeUndefined();
    expect(c.defaultProvider).toBe('cerebras');
  });

  it('picks vault when VAULT_ADDR is set and names missing variables', () => {
    expect(() => loadConfig({ VAULT_ADDR: 'http://127.0.0.1:8200' })).toThrow(/VAULT_TOKEN/);
    expect(loadConfig({ VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_TOKEN: 't' }).secretStore).toBe(
      'vault',
    );
  });

  it('names the variable and the problem for a bad value', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ LOCAL_MASTER_KEY: Buffer.alloc(16).toString('base64') })).toThrow(
      /LOCAL_MASTER_KEY must be base64 of exactly 32 bytes/,
    );
  });

  it('refuses generated secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/LOCAL_MASTER_KEY is required/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AUTH_JWKS_URI/);
  });

  it('refuses OIDC mode without an issuer and an audience, saying why', () => {
    const jwks = { AUTH_JWKS_URI: 'https://idp.test/.well-known/jwks.json' };
    expect(() => loadConfig(jwks)).toThrow(ConfigError);
    expect(() => loadConfig(jwks)).toThrow(
      /AUTH_ISSUER and AUTH_AUDIENCE are required when AUTH_JWKS_URI is set: without them any token your identity provider signed for any other application would be accepted/,
    );
    expect(() => loadConfig({ ...jwks, AUTH_ISSUER: 'https://idp.test/' })).toThrow(
      /AUTH_AUDIENCE is required when AUTH_JWKS_URI is set/,
    );
    expect(() => loadConfig({ ...jwks, AUTH_AUDIENCE: 'byok' })).toThrow(
      /AUTH_ISSUER is required when AUTH_JWKS_URI is set/,
    );
    const ok = loadConfig({ ...jwks, AUTH_ISSUER: 'https://idp.test/', AUTH_AUDIENCE: 'byok' });
    expect(ok.auth).toMatchObject({ issuer: 'https://idp.test/', audience: 'byok' });
    // Dev mode (HS256) keeps both optional.
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) })).not.toThrow();
  });

  it('collects per-provider variables for the registry', () => {
    const c = loadConfig({ CEREBRAS_API_KEY: 'k', OPENAI_BASE_URL: 'http://x', OTHER: 'y' });
    expect(c.providerEnv).toEqual({ CEREBRAS_API_KEY: 'k', OPENAI_BASE_URL: 'http://x' });
  });

  describe('OpenTelemetry variables', () => {
    it('leaves tracing off without an OTLP endpoint, or when the SDK is disabled', () => {
      expect(loadConfig({}).tracing).toBeUndefined();
      const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
      expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined();
      expect(loadConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing).toBeUndefined();
    });

    it('reads the endpoint, headers, service name, resource attributes and sampler', () => {
      const t = loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-token=a%20b,x-tenant=t1',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment.name=prod',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).tracing;
      expect(t).toMatchObject({
        url: 'http://collector:4318/v1/traces',
        headers: { 'x-token': 'a b', 'x-tenant': 't1' },
        serviceName: 'from-attrs',
        resourceAttributes: { 'deployment.environment.name': 'prod' },
        sampler: 'parentbased_traceidratio',
        samplerRatio: 0.25,
        protocol: 'http/protobuf',
      });
    });

    it('sends protobuf unless JSON is asked for, the traces variable winning', () => {
      const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
      const protocol = (env: Record<string, string>) =>
        loadConfig({ ...endpoint, ...env }).tracing?.protocol;
      expect(protocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
      expect(
        protocol({
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
        }),
      ).toBe('http/protobuf');
      expect(() => loadConfig({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
        /OTEL_EXPORTER_OTLP_PROTOCOL must be one of the following values: http\/protobuf, http\/json/,
      );
    });

    it('takes the traces endpoint as it is, and OTEL_SERVICE_NAME over the attributes', () => {
      const t = loadConfig({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/custom/traces',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_SERVICE_NAME: 'byok-eu',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=other',
      }).tracing;
      expect(t).toMatchObject({
        url: 'https://otel.example/custom/traces',
        serviceName: 'byok-eu',
      });
    });

    it('names a malformed variable', () => {
      const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
      expect(() => loadConfig({ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'novalue' })).toThrow(
        /OTEL_RESOURCE_ATTRIBUTES must be a list of key=value pairs/,
      );
      expect(() => loadConfig({ ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(
        /OTEL_TRACES_SAMPLER/,
      );
      expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
        /OTEL_EXPORTER_OTLP_ENDPOINT/,
      );
      expect(() => loadConfig({ LOG_SAMPLE_SUCCESS: '1.5' })).toThrow(/LOG_SAMPLE_SUCCESS/);
    });
  });
});
