/** Limits of the public contract. Browser-safe. */

/** Largest job (decoded bytes) by default: 1 MiB (SPEC "Jobs", `MAX_JOB_BYTES`). */
export const DEFAULT_MAX_JOB_BYTES = 1024 * 1024

/** Jobs waiting in the relay per printer (MAX_QUEUED_JOBS): more are refused with QUEUE_FULL. */
export const DEFAULT_MAX_QUEUED_JOBS = 10_000

/** Bytes of jobs' data waiting in the relay per printer (MAX_QUEUED_BYTES): 64 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024

/** `copies` in an envelope: 1 to 100. */
export const MIN_COPIES = 1
export const MAX_COPIES = 100

/** A client's job id: 1-128 chars of `A-Z a-z 0-9 . _ : -`. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/

/** Room for the JSON around the data of an envelope, and for MQTT headers and topic. */
export const ENVELOPE_OVERHEAD_BYTES = 64 * 1024

/**
 * The largest MQTT payload that can hold a job of `maxJobBytes`: a base64 envelope is 4/3 of the data,
 * plus the JSON around it. Brokers refuse packets above this; the relay refuses envelopes above it.
 */
export function maxPayloadBytes (maxJobBytes: number): number {
  return Math.ceil(maxJobBytes / 3) * 4 + ENVELOPE_OVERHEAD_BYTES
}
