import { checkEngine, dockerClient } from '../fleet/docker/engine.ts';
import { ensureImages, IMAGE_NAMES, stageContext, type ImageName } from '../fleet/docker/images.ts';

/** `fleetdrill images` options. */
export interface ImagesFlags {
  stageOnly?: boolean;
  json?: boolean;
}

/** Contexts `--stage-only` lays out: the built images' and the Gazebo robot's. */
const STAGED: ReadonlyArray<ImageName | 'robot-gazebo'> = [...IMAGE_NAMES, 'robot-gazebo'];

/**
 * Builds the docker fleet's images (or finds them built), printing each tag; with --stage-only
 * lays out the build contexts and prints their folders instead, for `docker build` by hand.
 */
export async function images(flags: ImagesFlags): Promise<number> {
  const print = (line: Record<string, unknown>, text: string): void =>
    console.log(flags.json ? JSON.stringify(line) : text);
  if (flags.stageOnly) {
    for (const name of STAGED) {
      const context = await stageContext(name);
      print({ event: 'staged', image: name, context }, `${name}: ${context}`);
    }
    return 0;
  }
  const docker = dockerClient();
  await checkEngine(docker);
  const built = await ensureImages(docker);
  for (const image of Object.values(built)) {
    print(
      { event: 'image', image: image.name, tag: image.tag, built: image.built, ms: image.ms },
      `${image.name}: ${image.tag} (${image.built ? `built in ${image.ms} ms` : 'up to date'})`,
    );
  }
  return 0;
}
