/* Fixtures for this folder's tests: a loopback echo server, an event bus and a started network. */
import { test } from '@playwright/test';
import { EventBus } from '../core/events.ts';
import { FleetNetwork, type StartedFleetNetwork } from './network.ts';
import { startEcho, type TcpServer } from './toxiproxy/test-helpers.ts';

export const netTest = test.extend<{ echo: TcpServer; events: EventBus; network: StartedFleetNetwork }>({
  echo: async ({}, use) => {
    const echo = await startEcho();
    await use(echo);
    await echo.stop();
  },
  events: async ({}, use) => use(new EventBus()),
  network: async ({ events }, use) => {
    const network = await new FleetNetwork({ seed: 7, events }).start();
    await use(network);
    await network.stop();
  },
});
