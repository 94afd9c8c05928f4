/** The ApiVersions answer: every served API's key and version range, from the codec's table. */
import { SERVED_APIS } from '../codec/api-table.js';
import type { ApiVersionRange } from '../codec/apis/api-versions.js';

const TABLE: readonly ApiVersionRange[] = SERVED_APIS.map((api) => ({ apiKey: api.apiKey, minVersion: api.minVersion, maxVersion: api.maxVersion }));

export function apiVersionsTable(): readonly ApiVersionRange[] {
  return TABLE;
}
