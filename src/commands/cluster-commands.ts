/**
 * The cluster's identity: an id minted once and kept in the log as one ClusterCreated event. Kafka's
 * form is a random (version 4) UUID written as 22 characters of unpadded base64url, never starting with
 * '-' (it would read as an option on a command line). initCluster mints one on the caller's thread
 * unless it is given one; the writer writes it only while the store has none, so a second
 * ClusterCreated can never be written, whoever asks and however many ask at once.
 */
import { randomBytes } from 'node:crypto';
import { assert } from '../assert.js';
import type { EventBody } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import type { MetadataState } from '../state/metadata-state.js';

/** Cluster commands as queued for the writer. */
export type ClusterCommand = { type: 'InitCluster'; value: { clusterId: string } };

/** What a given cluster id may hold: base64url characters, 1 to 64 of them (Kafka's are 22). */
const CLUSTER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Attempts at a fresh id before giving up; each fails with probability 1/64 (a leading '-'). */
const MINT_ATTEMPTS_MAX = 64;

/** A fresh cluster id in Kafka's form: 16 random bytes as a version 4 UUID, in unpadded base64url. */
export function mintClusterId(): string {
  for (let attempt = 0; attempt < MINT_ATTEMPTS_MAX; attempt++) {
    const bytes = randomBytes(16);
    // RFC 4122 version 4, variant 10, as Java's UUID.randomUUID (which Kafka's Uuid.randomUuid uses).
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const id = bytes.toString('base64url');
    if (!id.startsWith('-')) return id;
  }
  assert(false, `${MINT_ATTEMPTS_MAX} random cluster ids in a row started with '-'`);
}

/** Checks initCluster arguments: the given id, or a freshly minted one. */
export function checkInitClusterInput(clusterId: unknown): ClusterCommand {
  if (clusterId === undefined) return { type: 'InitCluster', value: { clusterId: mintClusterId() } };
  if (typeof clusterId !== 'string' || !CLUSTER_ID.test(clusterId)) {
    throw new MetaLogError('INVALID_REQUEST', 'clusterId must be 1 to 64 characters of [A-Za-z0-9_-] (Kafka\'s form: 22 characters of base64url)', { field: 'clusterId' });
  }
  return { type: 'InitCluster', value: { clusterId } };
}

/** Writes the cluster id while the store has none; with one already, the command writes nothing. */
export function decideClusterCommand(command: ClusterCommand, state: MetadataState): EventBody | null {
  if (state.clusterId !== null) return null;
  return { type: 'ClusterCreated', value: { clusterId: command.value.clusterId } };
}
