import { ApiError, badBody } from './errors.ts';
import { toxicType } from './toxics/registry.ts';

/** Which way a toxic acts: `upstream` is client → server, `downstream` server → client. */
export type Stream = 'upstream' | 'downstream';

/** A toxic as the API shows it. Immutable: an update makes a new one. */
export interface ToxicSpec {
  readonly name: string;
  readonly type: string;
  readonly stream: Stream;
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, unknown>>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseToxicity(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ApiError(400, `toxicity must be a number from 0 to 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates attributes against the type's schema; `base` holds the current values on update. */
function parseAttributes(
  type: string,
  input: unknown,
  base: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  if (input !== undefined && input !== null && !isObject(input)) {
    throw badBody('attributes must be an object');
  }
  const schema = toxicType(type)?.attributes;
  if (!schema) throw new ApiError(400, 'invalid toxic type');
  const result = schema.safeParse({ ...base, ...(input ?? {}) });
  if (result.success) return result.data as Record<string, unknown>;
  const issue = result.error.issues[0];
  const path = ['attributes', ...(issue?.path ?? [])].join('.');
  throw new ApiError(400, `${type}: ${path} ${issue?.message ?? 'is invalid'}`);
}

/** Parses the body of `POST /proxies/{p}/toxics`, filling Toxiproxy's defaults. */
export function parseNewToxic(body: unknown): ToxicSpec {
  if (!isObject(body)) throw badBody('a toxic must be a JSON object');
  const { type, stream = 'downstream', toxicity = 1, name } = body;
  if (typeof type !== 'string' || !toxicType(type)) throw new ApiError(400, 'invalid toxic type');
  const direction = typeof stream === 'string' ? stream.toLowerCase() : stream;
  if (direction !== 'upstream' && direction !== 'downstream') {
    throw new ApiError(400, 'stream was invalid, can be either upstream or downstream');
  }
  if (name !== undefined && name !== '' && typeof name !== 'string') throw badBody('name must be a string');
  return {
    name: typeof name === 'string' && name !== '' ? name : `${type}_${direction}`,
    type,
    stream: direction,
    toxicity: parseToxicity(toxicity),
    attributes: parseAttributes(type, body.attributes),
  };
}

/** Applies the body of `PATCH /proxies/{p}/toxics/{t}`: attributes merge, the rest stays. */
export function parseToxicUpdate(current: ToxicSpec, body: unknown): ToxicSpec {
  if (!isObject(body)) throw badBody('a toxic update must be a JSON object');
  return {
    ...current,
    toxicity: body.toxicity === undefined ? current.toxicity : parseToxicity(body.toxicity),
    attributes: parseAttributes(current.type, body.attributes, current.attributes),
  };
}

/** The toxic as JSON, in Toxiproxy's field order. */
export function toxicJson(toxic: ToxicSpec) {
  return {
    name: toxic.name,
    type: toxic.type,
    stream: toxic.stream,
    toxicity: toxic.toxicity,
    attributes: toxic.attributes,
  };
}
