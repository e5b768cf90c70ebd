export { labelTest, markEvidence, attachEvidence, type EvidenceMark } from './evidence.ts';
export { recordFigure } from './record-figure.ts';
