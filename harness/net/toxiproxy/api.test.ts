import { test as base, expect } from '@playwright/test';
import { Toxiproxy, ToxiproxyError, type Latency } from 'toxiproxy-node-client';
import { connectTo, portOf, proxyFixtures, startEcho, within, type ProxyFixtures } from './test-helpers.ts';

const test = base.extend<ProxyFixtures>(proxyFixtures);

/** A raw API call: status, headers and parsed body (undefined when empty). */
async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: response.headers.get('content-type')?.startsWith('application/json')
      ? (JSON.parse(text) as Record<string, unknown>)
      : undefined,
  };
}

test.describe('toxiproxy API through toxiproxy-node-client', () => {
  test('version is JSON with the exact content type', async ({ server, toxiproxy }) => {
    expect(JSON.parse(await toxiproxy.getVersion())).toEqual({ version: '2.12.0-fleetdrill' });
    const response = await fetch(`${server.url}/version`);
    expect(response.headers.get('content-type')).toBe('application/json;charset=utf-8');
  });

  test('create, get, list and remove a proxy; port 0 is echoed as the real port', async ({
    toxiproxy,
    echo,
  }) => {
    const created = await toxiproxy.createProxy({
      name: 'db',
      listen: '127.0.0.1:0',
      upstream: echo.address,
    });
    expect(created.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(portOf(created.listen)).toBeGreaterThan(0);
    expect(created.enabled).toBe(true);
    const fetched = await toxiproxy.get('db');
    expect(fetched.toJson()).toEqual({
      name: 'db',
      listen: created.listen,
      upstream: echo.address,
      enabled: true,
    });
    const client = await connectTo(created);
    expect(client.received.length).toBe(0);
    await client.roundTrip('hello');
    expect(client.received.toString()).toBe('hello');
    client.destroy();
    expect(Object.keys(await toxiproxy.getAll())).toEqual(['db']);
    await fetched.remove();
    expect(await toxiproxy.getAll()).toEqual({});
    await expect(toxiproxy.get('db')).rejects.toThrow(ToxiproxyError);
  });

  test('a duplicate proxy is refused', async ({ toxiproxy, echoProxy }) => {
    await expect(
      toxiproxy.createProxy({ name: echoProxy.name, listen: '127.0.0.1:0', upstream: echoProxy.upstream }),
    ).rejects.toThrow('status code 409');
  });

  test('toxics: defaults, get, update and remove', async ({ echoProxy }) => {
    const toxic = await echoProxy.addToxic<Latency>({
      type: 'latency',
      attributes: { latency: 50, jitter: 5 },
    } as never);
    expect(toxic.toJson()).toEqual({
      name: 'latency_downstream',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 50, jitter: 5 },
    });
    const updated = await toxic.update({ attributes: { latency: 80 } } as never);
    expect(updated.attributes).toEqual({ latency: 80, jitter: 5 });
    expect((await echoProxy.getToxic<Latency>('latency_downstream')).attributes.latency).toBe(80);
    const upstream = await echoProxy.addToxic({
      name: 'slow-up',
      type: 'bandwidth',
      stream: 'upstream',
      toxicity: 0.5,
      attributes: { rate: 10 },
    });
    expect(upstream.toJson()).toMatchObject({ name: 'slow-up', stream: 'upstream', toxicity: 0.5 });
    await toxic.remove();
    await expect(echoProxy.getToxic('latency_downstream')).rejects.toThrow('status code 404');
  });

  test('populate creates proxies and is idempotent', async ({ toxiproxy, echo }) => {
    const other = await startEcho();
    try {
      const first = await toxiproxy.populate([
        { name: 'a', listen: '127.0.0.1:0', upstream: echo.address },
        { name: 'b', listen: '127.0.0.1:0', upstream: other.address },
      ]);
      expect(Object.keys(first)).toEqual(['a', 'b']);
      const client = await connectTo(first.a!);
      await client.roundTrip('x');
      // Same addresses again: nothing is recreated, so the open connection survives.
      const second = await toxiproxy.populate([
        { name: 'a', listen: '127.0.0.1:0', upstream: echo.address },
        { name: 'b', listen: '127.0.0.1:0', upstream: echo.address },
      ]);
      expect(second.a!.listen).toBe(first.a!.listen);
      expect(second.b!.upstream).toBe(echo.address);
      await client.roundTrip('y');
      expect(client.received.toString()).toBe('xy');
      client.destroy();
    } finally {
      await other.stop();
    }
  });

  test('update disables and re-enables a proxy; reset clears toxics and enables all', async ({
    toxiproxy,
    echoProxy,
  }) => {
    const disabled = await echoProxy.update({ enabled: false } as never);
    expect(disabled.enabled).toBe(false);
    await expect(connectTo(echoProxy)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await echoProxy.addToxic({ type: 'timeout', attributes: { timeout: 0 } } as never);
    await toxiproxy.reset();
    const after = await toxiproxy.get(echoProxy.name);
    expect(after.enabled).toBe(true);
    expect(after.listen).toBe(echoProxy.listen);
    const client = await connectTo(after);
    await client.roundTrip('back');
    client.destroy();
    const raw = await call(toxiproxy.host, 'GET', `/proxies/${echoProxy.name}/toxics`);
    expect(raw.body).toEqual([]);
  });
});

test.describe('toxiproxy API over raw HTTP', () => {
  test('proxy errors: missing fields, bad JSON, duplicates, not found', async ({ server, echo }) => {
    const missingName = await call(server.url, 'POST', '/proxies', { upstream: echo.address });
    expect(missingName).toMatchObject({
      status: 400,
      body: { error: 'missing required field: name', status: 400 },
    });
    const missingUpstream = await call(server.url, 'POST', '/proxies', { name: 'x' });
    expect(missingUpstream.body).toEqual({ error: 'missing required field: upstream', status: 400 });
    for (const bad of ['{"name": ', '', 'null', '[1]', '{"name": 5, "upstream": "a:1"}']) {
      const result = await call(server.url, 'POST', '/proxies', bad);
      expect(result.status, bad).toBe(400);
      expect(result.body?.error, bad).toMatch(/^bad request body/);
    }
    const badAddress = await call(server.url, 'POST', '/proxies', { name: 'x', upstream: 'nowhere' });
    expect(badAddress.status).toBe(400);
    expect(badAddress.body?.error).toContain('upstream');
    expect((await call(server.url, 'POST', '/proxies', { name: 'x', upstream: echo.address })).status).toBe(
      201,
    );
    expect(await call(server.url, 'POST', '/proxies', { name: 'x', upstream: echo.address })).toMatchObject({
      status: 409,
      body: { error: 'proxy already exists', status: 409 },
    });
    for (const method of ['GET', 'PATCH', 'POST', 'DELETE']) {
      const result = await call(server.url, method, '/proxies/nope', method === 'GET' ? undefined : {});
      expect(result, method).toMatchObject({ status: 404, body: { error: 'proxy not found', status: 404 } });
    }
    expect((await call(server.url, 'DELETE', '/proxies/x')).status).toBe(204);
    expect((await call(server.url, 'DELETE', '/proxies/x')).status).toBe(404);
  });

  test('PATCH a proxy: listen and upstream changes restart the listener', async ({ server, echo }) => {
    const other = await startEcho();
    try {
      const created = await call(server.url, 'POST', '/proxies', { name: 'p', upstream: echo.address });
      const listen = created.body!.listen as string;
      const client = await connectTo({ listen });
      await client.roundTrip('1');
      const moved = await call(server.url, 'PATCH', '/proxies/p', { upstream: other.address });
      expect(moved).toMatchObject({ status: 200, body: { listen, upstream: other.address, enabled: true } });
      // The restart closed the old connection; a new one reaches the new upstream.
      expect(await within(client.closed, 5_000)).not.toBe('timeout');
      const again = await connectTo({ listen });
      await again.roundTrip('2');
      await expect.poll(() => other.sockets.length).toBe(1);
      again.destroy();
      const relisten = await call(server.url, 'PATCH', '/proxies/p', { listen: '127.0.0.1:0' });
      expect(relisten.body!.listen).not.toBe(listen);
      await expect(connectTo({ listen })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      const third = await connectTo({ listen: relisten.body!.listen as string });
      await third.roundTrip('3');
      third.destroy();
      expect((await call(server.url, 'PATCH', '/proxies/p', '{oops')).status).toBe(400);
    } finally {
      await other.stop();
    }
  });

  test('toxic errors and the toxics list', async ({ server, echoProxy }) => {
    const path = `/proxies/${echoProxy.name}/toxics`;
    expect((await call(server.url, 'GET', path)).body).toEqual([]);
    expect(await call(server.url, 'POST', path, { type: 'teleport' })).toMatchObject({
      status: 400,
      body: { error: 'invalid toxic type', status: 400 },
    });
    expect((await call(server.url, 'POST', path, {})).body?.error).toBe('invalid toxic type');
    const badStream = await call(server.url, 'POST', path, { type: 'latency', stream: 'sideways' });
    expect(badStream).toMatchObject({ status: 400, body: { status: 400 } });
    expect(badStream.body?.error).toContain('stream');
    const badAttribute = await call(server.url, 'POST', path, {
      type: 'latency',
      attributes: { latency: 'x' },
    });
    expect(badAttribute.status).toBe(400);
    expect(badAttribute.body?.error).toBe('latency: attributes.latency must be a number');
    const negative = await call(server.url, 'POST', path, { type: 'slicer', attributes: { delay: -1 } });
    expect(negative.body?.error).toBe('slicer: attributes.delay must be >= 0');
    expect((await call(server.url, 'POST', path, { type: 'latency', toxicity: 2 })).status).toBe(400);
    expect((await call(server.url, 'POST', path, '{bad')).status).toBe(400);

    const created = await call(server.url, 'POST', path, { type: 'latency', stream: 'UPSTREAM' });
    expect(created).toMatchObject({
      status: 200,
      body: { name: 'latency_upstream', stream: 'upstream', attributes: { latency: 0, jitter: 0 } },
    });
    expect(await call(server.url, 'POST', path, { type: 'latency', stream: 'upstream' })).toMatchObject({
      status: 409,
      body: { error: 'toxic already exists', status: 409 },
    });
    // Same type on the other stream gets its own default name.
    expect((await call(server.url, 'POST', path, { type: 'latency' })).status).toBe(200);
    const list = await call(server.url, 'GET', path);
    expect((list.body as unknown as Array<{ name: string }>).map((toxic) => toxic.name)).toEqual([
      'latency_upstream',
      'latency_downstream',
    ]);

    const patched = await call(server.url, 'PATCH', `${path}/latency_upstream`, {
      attributes: { jitter: 3 },
      toxicity: 0.25,
    });
    expect(patched.body).toEqual({
      name: 'latency_upstream',
      type: 'latency',
      stream: 'upstream',
      toxicity: 0.25,
      attributes: { latency: 0, jitter: 3 },
    });
    expect((await call(server.url, 'GET', `${path}/latency_upstream`)).body).toEqual(patched.body);
    expect(
      (await call(server.url, 'PATCH', `${path}/latency_upstream`, { attributes: { jitter: -3 } })).status,
    ).toBe(400);
    for (const method of ['GET', 'PATCH', 'POST', 'DELETE']) {
      const result = await call(server.url, method, `${path}/nope`, method === 'GET' ? undefined : {});
      expect(result, method).toMatchObject({ status: 404, body: { error: 'toxic not found', status: 404 } });
    }
    expect((await call(server.url, 'DELETE', `${path}/latency_upstream`)).status).toBe(204);
    expect((await call(server.url, 'GET', '/proxies/nope/toxics')).status).toBe(404);
  });

  test('populate reports the failing entry and keeps what it made', async ({ server, echo }) => {
    const ok = await call(server.url, 'POST', '/populate', [{ name: 'a', upstream: echo.address }]);
    expect(ok.status).toBe(201);
    expect((ok.body!.proxies as unknown[]).length).toBe(1);
    const invalid = await call(server.url, 'POST', '/populate', [
      { name: 'b', upstream: echo.address },
      { name: 'c' },
    ]);
    expect(invalid).toMatchObject({
      status: 400,
      body: { proxies: [], error: 'missing required field: upstream', status: 400 },
    });
    expect(Object.keys((await call(server.url, 'GET', '/proxies')).body!)).toEqual(['a']);
    // A listener that cannot bind fails that entry; the ones before it stay.
    const taken = (await call(server.url, 'GET', '/proxies/a')).body!.listen as string;
    const clash = await call(server.url, 'POST', '/populate', [
      { name: 'd', upstream: echo.address },
      { name: 'e', listen: taken, upstream: echo.address },
    ]);
    expect(clash.status).toBe(500);
    expect((clash.body!.proxies as Array<{ name: string }>).map((proxy) => proxy.name)).toEqual(['d']);
    expect(clash.body!.error).toContain('EADDRINUSE');
    expect((await call(server.url, 'POST', '/populate', { name: 'x' })).status).toBe(400);
  });

  test('a listen address that is no interface of this machine is a 400 naming it; nothing is created', async ({
    server,
    echo,
  }) => {
    for (const listen of ['no-such-host.invalid:0', '192.0.2.1:0']) {
      const answer = await call(server.url, 'POST', '/proxies', {
        name: 'far',
        listen,
        upstream: echo.address,
      });
      expect(answer.status).toBe(400);
      expect(answer.body!.error).toContain(`proxy far: listen ${listen}: `);
    }
    expect(await call(server.url, 'GET', '/proxies')).toMatchObject({ status: 200, body: {} });
  });

  test('every response carries a request id; browsers get 403', async ({ server }) => {
    const ids = new Set<string>();
    for (const [method, path] of [
      ['GET', '/version'],
      ['GET', '/proxies'],
      ['GET', '/nowhere'],
      ['PUT', '/proxies'],
      ['POST', '/reset'],
      ['GET', '/metrics'],
    ] as const) {
      const result = await call(server.url, method, path);
      const id = result.headers.get('x-toxiproxy-request-id');
      expect(id, `${method} ${path}`).toMatch(/^[0-9a-f]{20}$/);
      ids.add(id!);
    }
    expect(ids.size).toBe(6);
    expect((await call(server.url, 'GET', '/nowhere')).status).toBe(404);
    expect((await call(server.url, 'PUT', '/proxies')).status).toBe(405);
    const browser = await call(server.url, 'GET', '/proxies', undefined, {
      'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64)',
    });
    expect(browser.status).toBe(403);
    expect(browser.headers.get('x-toxiproxy-request-id')).toBeTruthy();
    expect((await call(server.url, 'GET', '/proxies', undefined, { 'User-Agent': 'curl/8' })).status).toBe(
      200,
    );
  });

  test('metrics count bytes per direction with Toxiproxy labels', async ({ server, echoProxy }) => {
    const client = await connectTo(echoProxy);
    await client.roundTrip('0123456789');
    client.destroy();
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const labels = (direction: string) =>
      `{direction="${direction}",listener="${echoProxy.listen}",proxy="${echoProxy.name}",upstream="${echoProxy.upstream}"}`;
    for (const metric of ['toxiproxy_proxy_received_bytes_total', 'toxiproxy_proxy_sent_bytes_total']) {
      expect(text).toContain(`# TYPE ${metric} counter`);
      expect(text).toContain(`${metric}${labels('upstream')} 10\n`);
      expect(text).toContain(`${metric}${labels('downstream')} 10\n`);
    }
  });

  test('the server keeps serving after hostile requests', async ({ server }) => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    expect((await call(server.url, 'POST', '/proxies', big)).status).toBe(413);
    expect((await call(server.url, 'GET', '/proxies/%E0%A4%A')).status).toBe(400);
    expect(
      (await call(server.url, 'POST', '/proxies', { name: 'n', upstream: 'a:1', enabled: 'yes' })).status,
    ).toBe(400);
    expect(
      (await call(server.url, 'POST', '/proxies', { name: 'n', upstream: 'a:1', listen: '1.2.3:x' })).status,
    ).toBe(400);
    const client = new Toxiproxy(server.url);
    expect(JSON.parse(await client.getVersion())).toHaveProperty('version');
  });
});
