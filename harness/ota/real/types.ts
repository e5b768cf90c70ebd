/** What every real client's artifact builder is given. */
export interface ClientArtifactInput {
  /** The packed root filesystem image (reference/robot-host/real-disk/image.ts). */
  rootfsImage: string;
  /** `<name>-<version>`: Mender's artifact name, RAUC's and SWUpdate's version string carry the version. */
  artifactName: string;
  version: string;
  /** Mender's device type, RAUC's compatible, SWUpdate's board. */
  deviceType: string;
  /** `test`: the key robots trust; `untrusted`: a key no robot trusts. */
  key: 'test' | 'untrusted';
  /** A scratch directory of the build's own. */
  workDir: string;
  /** Where to write the client's artifact file. */
  out: string;
}
