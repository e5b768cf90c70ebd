import { test } from '../harness/index.ts';
import { realClientDrills } from './ota-real-clients.ts';
import { REAL_CLIENT_DRILLS } from './ota-tables.ts';

// One robot with swupdate on a real disk (loop-device partitions, a U-Boot environment) takes every update in turn.
// A 2 s health window instead of 5 s: the verdict is the same, each update is 3 s quicker.
test.use({ robots: 1, otaClient: 'swupdate', agent: { ota: { healthWindowMs: 2_000 } } });

realClientDrills('swupdate', REAL_CLIENT_DRILLS);
