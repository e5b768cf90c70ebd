#!/usr/bin/env node
// Builds a Node.js base image from this machine's own node binary, for machines that reach no
// container registry: FROM scratch, holding `node` and exactly the shared libraries `ldd` says it
// loads. The fleetdrill images take it as their BASE_IMAGE. Prints the image's name at the end.
//
//   node docker/base/build-local-base.mjs [TAG]     default TAG: fleetdrill/node-local:<node version>
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { $ } from 'zx';

const DOCKERFILE = `FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin HOME=/tmp
ENTRYPOINT ["/usr/local/bin/node"]
`;

/** The absolute paths of the libraries `ldd` lists: `libx.so => /path (0x..)` and `/lib64/ld-...`. */
export function lddLibraries(output) {
  const libs = new Set();
  for (const line of output.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === '=>' && fields[2]?.startsWith('/')) libs.add(fields[2]);
    else if (fields[0]?.startsWith('/')) libs.add(fields[0]);
  }
  return [...libs].sort();
}

/** Builds the image from `nodeBin` (default: the node running this) and returns its tag. */
export async function buildLocalBase(
  tag = `fleetdrill/node-local:${process.versions.node}`,
  nodeBin = process.execPath,
) {
  const context = await mkdtemp(join(tmpdir(), 'fleetdrill-base-'));
  try {
    const rootfs = join(context, 'rootfs');
    for (const dir of ['usr/local/bin', 'tmp', 'etc']) await mkdir(join(rootfs, dir), { recursive: true });
    // copyFile follows symlinks, as `cp -L` did: the image gets the files, not links into the host.
    await copyFile(nodeBin, join(rootfs, 'usr/local/bin/node'));
    await chmod(join(rootfs, 'usr/local/bin/node'), 0o755);
    // Every library node links against, at the path the dynamic loader will look for it.
    const { stdout } = await $({ quiet: true })`ldd ${nodeBin}`;
    for (const lib of lddLibraries(stdout)) {
      await mkdir(join(rootfs, dirname(lib)), { recursive: true });
      await copyFile(lib, join(rootfs, lib));
    }
    await chmod(join(rootfs, 'tmp'), 0o1777);
    // Numeric users (docker run --user UID:GID) need no entry; these name root for tools that ask.
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/tmp:/usr/sbin/nologin\n');
    await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\n');
    await writeFile(join(context, 'Dockerfile'), DOCKERFILE);
    await $({ quiet: true })`docker build --quiet --label fleetdrill.base=local --tag ${tag} ${context}`;
    return tag;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    console.log(await buildLocalBase(process.argv[2]));
  } catch (error) {
    // One readable line for the harness's error message, not zx's stack: what failed and what it said.
    const said = (error.stderr || error.message || String(error)).trim().split('\n').slice(-3).join(' | ');
    console.error(
      `build-local-base: ${error.exitCode === undefined ? '' : `exit ${error.exitCode}: `}${said}`,
    );
    process.exitCode = 1;
  }
}
