/**
 * The group coordinator's public face for the broker: the coordinator, its request and response types,
 * its settings, the store interface it needs, and its timers (the manual ones are for tests).
 */
export { GroupCoordinator, newMemberId } from './group-coordinator.js';
export type { GroupCoordinatorOptions } from './group-coordinator.js';
export type { GroupStore } from './group-store.js';
export type { StoreErrorListener } from './rebalancer.js';
export { DEFAULT_GROUP_COORDINATOR_CONFIG, resolveCoordinatorConfig } from './coordinator-config.js';
export type { GroupCoordinatorConfig } from './coordinator-config.js';
export { ManualTimers, SystemTimers } from './timers.js';
export type { TimerHandle, Timers } from './timers.js';
export { encodeSubscription, subscribedTopics } from './consumer-subscription.js';
export type * from './messages.js';
