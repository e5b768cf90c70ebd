/** The fleet's certificates: a per-run CA, and who a certificate names. */
export {
  CertificateAuthority,
  identityFiles,
  writeIdentity,
  type IdentityFiles,
  type IssuedIdentity,
  type Validity,
} from './ca.ts';
export { CLOUD_SERVER_NAME, partyOf, subjectOf, type Party, type PartyKind } from './identity.ts';
