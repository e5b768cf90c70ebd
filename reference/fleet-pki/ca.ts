/**
 * The fleet's certificate authority, made fresh for a run: an ECDSA P-256 root that stays in
 * memory (its key is never written anywhere) and issues one certificate per party. Only what a
 * party needs is written to its own directory: the CA certificate, its certificate and its key.
 */
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLOUD_SERVER_NAME, subjectOf, type Party } from './identity.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

/** A party's credentials in PEM. */
export interface IssuedIdentity {
  party: Party;
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Where {@link writeIdentity} puts a party's files. */
export interface IdentityFiles {
  ca: string;
  cert: string;
  key: string;
}

/** A certificate's validity; both default to a window around now. */
export interface Validity {
  notBefore?: Date;
  notAfter?: Date;
}

function pem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der)
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${base64}-----END ${label}-----\n`;
}

function serial(): string {
  // Positive 16-byte serials: the top bit clear keeps DER from reading them as negative.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0]! &= 0x7f;
  return Buffer.from(bytes).toString('hex');
}

export class CertificateAuthority {
  private constructor(
    private readonly keys: webcrypto.CryptoKeyPair,
    private readonly cert: x509.X509Certificate,
    /** The O= of every subject: names the run, so two runs' certificates are told apart. */
    readonly organisation: string,
  ) {}

  /** A new root, valid from a day ago for `days`. */
  static async create(organisation: string, days = 30): Promise<CertificateAuthority> {
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, false, ['sign', 'verify']);
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=fleetdrill test CA, O=${organisation}`,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + days * DAY_MS),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new CertificateAuthority(keys, cert, organisation);
  }

  get certPem(): string {
    return this.cert.toString('pem') + '\n';
  }

  /**
   * Issues `party` a certificate and a new key. The cloud's names CLOUD_SERVER_NAME, localhost and
   * 127.0.0.1 for servers; every other party's is a client certificate.
   */
  async issue(party: Party, validity: Validity = {}): Promise<IssuedIdentity> {
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
    const now = Date.now();
    const server = party.kind === 'cloud';
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: subjectOf(party, this.organisation),
      issuer: this.cert.subject,
      notBefore: validity.notBefore ?? new Date(now - DAY_MS),
      notAfter: validity.notAfter ?? new Date(now + 7 * DAY_MS),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([
          server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
        ...(server
          ? [
              new x509.SubjectAlternativeNameExtension([
                { type: 'dns', value: CLOUD_SERVER_NAME },
                { type: 'dns', value: 'localhost' },
                { type: 'ip', value: '127.0.0.1' },
              ]),
            ]
          : []),
      ],
    });
    const key = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    return {
      party,
      caPem: this.certPem,
      certPem: cert.toString('pem') + '\n',
      keyPem: pem('PRIVATE KEY', key),
    };
  }
}

/** The file names of a party's credentials in `dir`. */
export function identityFiles(dir: string): IdentityFiles {
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

/** Writes a party's credentials to `dir`; the key readable by its owner only. */
export async function writeIdentity(dir: string, identity: IssuedIdentity): Promise<IdentityFiles> {
  const files = identityFiles(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(files.ca, identity.caPem);
  await writeFile(files.cert, identity.certPem);
  await writeFile(files.key, identity.keyPem, { mode: 0o600 });
  await chmod(files.key, 0o600);
  return files;
}
