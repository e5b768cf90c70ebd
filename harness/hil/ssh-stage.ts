export * from './ssh/index.ts';
