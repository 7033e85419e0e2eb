import type { RoutedHandler } from '../lambdas/http/middleware';
import { handlerModules, routes } from '../lambdas/routes';

/** The route table is the only list of routes: each handler module serves exactly the routes the table gives it. */
describe.each(handlerModules())('handler module %s', (module) => {
  test('serves exactly the routes the table assigns to it', async () => {
    const { handler } = (await import(`../lambdas/handlers/${module}`)) as { handler: RoutedHandler };
    const assigned = routes.filter((r) => r.handler === module).map((r) => r.id);
    expect([...handler.routeIds].sort()).toEqual([...assigned].sort());
  });
});

test('every route of the table is served by some handler module, and route ids are unique', () => {
  const ids = routes.map((r) => r.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(routes.map((r) => `${r.method} ${r.path}`)).size).toBe(routes.length);
});
