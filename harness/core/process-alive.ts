import { readFileSync } from 'node:fs';

/**
 * True while `pid` runs. A pid owned by another user (EPERM) runs; a zombie (dead, not yet reaped:
 * common in containers) does not. Leftover sweeps tell a dead run's namespaces, loop devices,
 * registries and run dirs from a live one's by this.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
