import { RouteMethods } from '../../../src/common/routes/route-methods';

describe('RouteMethods', () => {
  const routes = new RouteMethods();
  routes.add('GET', '/api/providers');
  routes.add(['GET', 'HEAD'], '/api/user/api-keys');
  routes.add('POST', '/api/user/api-keys');
  routes.add('GET', '/api/user/api-keys/:provider');
  routes.add('PATCH', '/api/user/api-keys/:id');
  routes.add('DELETE', '/api/user/api-keys/:id');
  routes.add('POST', '/api/user/api-keys/:id/rotate');
  routes.add('GET', '/api/admin/users/:sub/limits');
  routes.add('PUT', '/api/admin/users/:sub/limits');
  routes.add(['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], '/v1/*');
  const uuid = '0b9f4a51-3c5e-4e3a-9d1c-2f7b6a8e9c10';

  it('lists the methods routed for a path, HEAD with GET, in a stable order', () => {
    expect(routes.allowed('/api/providers')).toEqual(['GET', 'HEAD']);
    expect(routes.allowed('/api/user/api-keys')).toEqual(['GET', 'HEAD', 'POST']);
    expect(routes.allowed('/api/admin/users/a%20b/limits')).toEqual(['GET', 'HEAD', 'PUT']);
    expect(routes.allowed(`/api/user/api-keys/${uuid}/rotate`)).toEqual(['POST']);
  });

  it('goes by the shape of the path, as the router does', () => {
    const all = ['GET', 'HEAD', 'PATCH', 'DELETE'];
    expect(routes.allowed(`/api/user/api-keys/${uuid}`)).toEqual(all);
    expect(routes.allowed('/api/user/api-keys/cerebras')).toEqual(all);
    expect(routes.allowed('/api/user/api-keys/cerebras/rotate')).toEqual(['POST']);
  });

  it('knows nothing outside /api, and no path no route has', () => {
    expect(routes.allowed('/v1/models')).toEqual([]);
    expect(routes.allowed('/api/nothing')).toEqual([]);
    expect(routes.allowed('/api/providers/')).toEqual([]);
  });
});
