export { labelTest, markEvidence, attachEvidence, type EvidenceMark } from './evidence.ts';
