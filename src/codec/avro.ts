/**
 * avsc's type system alone (`avsc/lib/types.js`), without the rest of its package entry (object container
 * files, RPC services, and the Node modules those load), which the store never uses. Loading only this
 * takes about half the time of loading `avsc`, and both the opening thread and the writer thread load it
 * on their way to a first read. The classes are the very ones `avsc` exports (same module instance).
 */
import { createRequire } from 'node:module';
import type * as avsc from 'avsc';

const types = createRequire(import.meta.url)('avsc/lib/types.js') as Pick<typeof avsc, 'Type'>;

/** `avsc`'s `Type`, for `avro.Type.forSchema`. */
export const avro: Pick<typeof avsc, 'Type'> = { Type: types.Type };
