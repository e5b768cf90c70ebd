/**
 * A process that owns a VPN hub and robot and then dies in one of the ways a run dies, for the
 * hygiene tests: `node --import tsx vpn.child.ts <wait|exit> <runDir>`. Prints its pid as one JSON line once
 * the tunnel is up. On SIGINT it exits as the fleetdrill CLI does, so exit handlers run.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import { ToxiproxyServer } from '../toxiproxy/index.ts';
import { startVpnHub } from './index.ts';

const [mode, runDir] = process.argv.slice(2);
process.on('SIGINT', () => process.exit(130));
const faults = await new ToxiproxyServer({ seed: 1 }).start();
const hub = await startVpnHub({
  seed: 1,
  runDir: runDir!,
  faults: new Toxiproxy(faults.url),
  expose: [Number(new URL(faults.url).port)],
});
const robot = await hub.addRobot('child', { robotPorts: [7_411], keepaliveS: 1 });
await robot.listenInside(7_500);
process.stdout.write(`${JSON.stringify({ pid: process.pid, netns: robot.netns })}\n`);
if (mode === 'exit') process.exit(0);
setInterval(() => undefined, 60_000);
