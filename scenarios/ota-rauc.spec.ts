import { test } from '../harness/index.ts';
import { realClientDrills } from './ota-real-clients.ts';
import { REAL_CLIENT_DRILLS } from './ota-tables.ts';

// One robot with rauc on a real disk (loop-device partitions, a U-Boot environment) takes every update in turn.
test.use({ robots: 1, otaClient: 'rauc' });

realClientDrills('rauc', REAL_CLIENT_DRILLS);
