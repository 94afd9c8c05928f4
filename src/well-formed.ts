/**
 * Well-formed UTF-16: the one test of "is this a string the store can hold" that every layer shares
 * (command checks, index reads, the API's path and filter checks). A string is well-formed when every
 * surrogate is half of a pair; one that is not has no UTF-8 encoding, and the store's encoders each
 * replace its lone surrogates differently (see src/commands/input-rules.ts for the rule built on it).
 * Imports nothing, so any module may use it.
 */

const nativeIsWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

/**
 * True when `text` is well-formed UTF-16. It is `String.prototype.isWellFormed` (native in Node 20),
 * which TypeScript's ES2022 library does not declare.
 */
export function isWellFormed(text: string): boolean {
  return nativeIsWellFormed.call(text);
}
