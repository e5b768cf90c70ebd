/**
 * A process that owns a namespace link and then dies in one of the ways a run dies, for the
 * hygiene tests: `node --import tsx link.child.ts <wait|exit>`. Prints the link's namespaces as
 * one JSON line once it is up. On SIGINT it exits as the fleetdrill CLI does, so exit handlers run.
 */
import { NetnsLink } from './link.ts';

const mode = process.argv[2];
// Installed first, as the CLI does, so a SIGINT right after the link is up finds it.
process.on('SIGINT', () => process.exit(130));
const link = await NetnsLink.start({ seed: 1, path: 'relay', relayPorts: [7400], label: 'child' });
process.stdout.write(
  `${JSON.stringify({ pid: process.pid, netns: [link.robot.netns, link.offboard.netns] })}\n`,
);
if (mode === 'exit') process.exit(0);
setInterval(() => undefined, 60_000);
