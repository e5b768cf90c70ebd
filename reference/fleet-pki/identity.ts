/**
 * Who is on the other end of a TLS link, as the fleet's certificates say it. Every certificate
 * the fleet's CA issues names one party: its organisational unit says what kind (a robot, the
 * cloud, an operator such as the harness) and its common name which one. Both ends read the
 * same names, so the rules live here once.
 */
import type { PeerCertificate } from 'node:tls';

/** The name the cloud's certificate carries, whatever address a robot reaches it through. */
export const CLOUD_SERVER_NAME = 'fleet-cloud';

export type PartyKind = 'robot' | 'cloud' | 'operator';

/** One party of the fleet, as named in its certificate. */
export interface Party {
  kind: PartyKind;
  /** The robot's id, `fleet-cloud`, or the operator's name. */
  name: string;
}

const KINDS: readonly PartyKind[] = ['robot', 'cloud', 'operator'];

/** The party a peer certificate names, or why it names none. */
export function partyOf(cert: Pick<PeerCertificate, 'subject'>): Party | { problem: string } {
  const subject = cert.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  const one = (field: string): string | undefined => {
    const value = subject?.[field];
    return Array.isArray(value) ? undefined : value;
  };
  const kind = one('OU');
  const name = one('CN');
  if (!kind || !(KINDS as readonly string[]).includes(kind))
    return {
      problem: `certificate subject OU ${JSON.stringify(kind ?? null)} is not one of ${KINDS.join(', ')}`,
    };
  if (!name) return { problem: 'certificate subject has no single CN' };
  return { kind: kind as PartyKind, name };
}

/** A party's subject, as the CA writes it. */
export function subjectOf(party: Party, organisation: string): string {
  return `CN=${party.name}, OU=${party.kind}, O=${organisation}`;
}
