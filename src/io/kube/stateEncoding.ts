/**
 * How the delivery state sits in its ConfigMap (ADR 0005, 0006): plain JSON under
 * `delivery.json` while it is small (at most PLAIN_MAX_BYTES, readable with kubectl), else
 * gzip'd under binaryData `delivery.json.gz`. The records compress about five to one (field
 * names and phases repeat; UIDs and timestamps do not), so one ConfigMap holds several times
 * as many in-flight rollouts before anything must be trimmed (issue 9: never drop the binding
 * of an in-flight rollout while it can be kept).
 *
 * Sizes are what the API server counts: the JSON's bytes, or the base64 of the gzip.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

/** The ConfigMap key holding the snapshot's JSON (small states). */
export const STATE_KEY = 'delivery.json';
/** The binaryData key holding the gzip'd JSON (larger states). */
export const STATE_GZ_KEY = 'delivery.json.gz';
/** Plain JSON up to this size; gzip beyond. */
export const PLAIN_MAX_BYTES = 128 * 1024;

export interface EncodedState {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  /** What the ConfigMap's payload weighs (JSON bytes, or base64 characters). */
  bytes: number;
}

/** The ConfigMap payload for a snapshot's JSON. */
export function encodeState(json: string, plainMaxBytes: number = PLAIN_MAX_BYTES): EncodedState {
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= plainMaxBytes) return { data: { [STATE_KEY]: json }, bytes };
  const packed = gzipSync(json).toString('base64');
  return { binaryData: { [STATE_GZ_KEY]: packed }, bytes: packed.length };
}

/**
 * The snapshot's JSON from a ConfigMap, whichever way it was stored; undefined when it holds
 * neither key. Throws when the gzip'd payload is corrupt (the caller ignores the state, logged).
 */
export function decodeState(configMap: { data?: Record<string, string>; binaryData?: Record<string, string> }): string | undefined {
  const packed = configMap.binaryData?.[STATE_GZ_KEY];
  if (packed !== undefined) return gunzipSync(Buffer.from(packed, 'base64')).toString('utf8');
  return configMap.data?.[STATE_KEY];
}
