/**
 * The run's certificates: a fleet CA made when a fleet with a cloud starts, a certificate for the
 * cloud, one per robot (RobotHost writes it onto the robot's disk, where its agent finds it), and
 * one for the harness itself, which talks to the cloud as an operator. The operator's is also
 * written to the run dir, so that curl or mosquitto_sub can be pointed at the cloud by hand while
 * `fleetdrill up` runs. Nothing is committed or reused between runs; every key lives in the run
 * dir, which goes with the run, and the CA's own key never leaves memory.
 */
import { join } from 'node:path';
import { registerSecret } from '../core/secrets.ts';
import {
  CertificateAuthority,
  writeIdentity,
  type IdentityFiles,
  type IssuedIdentity,
  type Party,
} from '../../reference/fleet-pki/index.ts';

export type { IdentityFiles, IssuedIdentity } from '../../reference/fleet-pki/index.ts';

/** The harness as the cloud knows it: its certificate, and where the files are. */
export interface OperatorIdentity {
  identity: IssuedIdentity;
  files: IdentityFiles;
}

export class FleetPki {
  private constructor(
    readonly ca: CertificateAuthority,
    /** The harness's own: it may do anything in the cloud. */
    readonly operator: OperatorIdentity,
  ) {}

  /** A fresh CA for the run in `runDir`, and the operator's certificate in `<runDir>/operator`. */
  static async create(runDir: string, runId: string): Promise<FleetPki> {
    const ca = await CertificateAuthority.create(`fleetdrill run ${runId}`);
    const identity = registered(await ca.issue({ kind: 'operator', name: 'fleetdrill-harness' }));
    return new FleetPki(ca, { identity, files: await writeIdentity(join(runDir, 'operator'), identity) });
  }

  async issue(party: Party): Promise<IssuedIdentity> {
    return registered(await this.ca.issue(party));
  }
}

// Every key the run makes is known by value in this process, so a log or error quoting it reaches
// the report redacted (docs/security.md, Secrets in reports).
function registered(identity: IssuedIdentity): IssuedIdentity {
  registerSecret(identity.keyPem.trim(), 'private key');
  return identity;
}
