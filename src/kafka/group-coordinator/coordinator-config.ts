/**
 * The group coordinator's settings (Kafka's broker options of the same meaning) and its hard limits.
 *
 * Owns: the defaults, the checks of a caller's settings, and the bounds of every map and queue the
 * coordinator keeps in memory. Invariants (asserted when this module loads): a group's members fit one
 * stored group record's member limit; member ids this coordinator makes fit the store's id length.
 */

/** Settings; every field has Kafka's default. */
export interface GroupCoordinatorConfig {
  /** Kafka's group.min.session.timeout.ms: shorter session timeouts get INVALID_SESSION_TIMEOUT. */
  minSessionTimeoutMs: number;
  /** Kafka's group.max.session.timeout.ms: longer session timeouts get INVALID_SESSION_TIMEOUT. */
  maxSessionTimeoutMs: number;
  /**
   * Kafka's group.initial.rebalance.delay.ms: the first rebalance of an Empty group waits this long for
   * more members, again each time one joins, until the rebalance timeout is used up.
   */
  initialRebalanceDelayMs: number;
  /** Kafka's group.max.size: members (joined or asked to rejoin with their id) per group. */
  groupMaxSize: number;
}

/** Kafka's defaults (group.max.size is Kafka's unbounded default cut to what a stored group holds). */
export const DEFAULT_GROUP_COORDINATOR_CONFIG: Readonly<GroupCoordinatorConfig> = Object.freeze({
  minSessionTimeoutMs: 6_000,
  maxSessionTimeoutMs: 1_800_000,
  initialRebalanceDelayMs: 3_000,
  groupMaxSize: 10_000,
});

/** Members of one stored group: the store's own limit on a group record's members. */
export const GROUP_MEMBERS_MAX = 10_000;

/** Groups held in memory at once; an Empty group is dropped from memory (it stays in the store) to make room. */
export const GROUPS_MAX = 100_000;

/** Protocols one JoinGroup may name (consumers name one per assignor: two or three). */
export const JOIN_PROTOCOLS_MAX = 64;

/** Group ids, member ids, instance ids, client ids and hosts: the store's string length limit. */
export const GROUP_STRING_LENGTH_MAX = 1024;

/** Kafka's limit on a group instance id (the topic-name rule: 249 of [a-zA-Z0-9._-]). */
export const GROUP_INSTANCE_ID_LENGTH_MAX = 249;

/** Length of a member id's random suffix: '-' and a UUID. */
export const MEMBER_ID_SUFFIX_LENGTH = 37;

/** Subscribed topics read from one member's subscription; the rest are not recorded. */
export const SUBSCRIBED_TOPICS_MAX = 10_000;

if (GROUP_INSTANCE_ID_LENGTH_MAX + MEMBER_ID_SUFFIX_LENGTH > GROUP_STRING_LENGTH_MAX) {
  throw new Error('a static member id (instance id and suffix) must fit the store\'s string length');
}
if (DEFAULT_GROUP_COORDINATOR_CONFIG.groupMaxSize > GROUP_MEMBERS_MAX) {
  throw new Error('the default group.max.size must fit a stored group');
}

/** `input` over the defaults, checked: throws RangeError naming the field and its rule. */
export function resolveCoordinatorConfig(input: Partial<GroupCoordinatorConfig> = {}): Readonly<GroupCoordinatorConfig> {
  const config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...input };
  const nonNegative = (field: keyof GroupCoordinatorConfig, max: number): void => {
    const value = config[field];
    if (!Number.isSafeInteger(value) || value < 0 || value > max) throw new RangeError(`${field} must be an integer in [0, ${max}], got ${value}`);
  };
  nonNegative('minSessionTimeoutMs', 2 ** 31 - 1);
  nonNegative('maxSessionTimeoutMs', 2 ** 31 - 1);
  nonNegative('initialRebalanceDelayMs', 2 ** 31 - 1);
  nonNegative('groupMaxSize', GROUP_MEMBERS_MAX);
  if (config.minSessionTimeoutMs > config.maxSessionTimeoutMs) throw new RangeError('minSessionTimeoutMs must not exceed maxSessionTimeoutMs');
  if (config.groupMaxSize < 1) throw new RangeError('groupMaxSize must be at least 1');
  return Object.freeze(config);
}
