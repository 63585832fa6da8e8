/** JSON values as they travel on the wire and sit in the file. */
export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

/** One RFC 6902 operation. Paths are JSON Pointers (RFC 6901); "-" as the
 * last array token appends. */
export type Operation =
  | { op: 'add'; path: string; value: JSONValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JSONValue }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: JSONValue };

/** Thrown by applyPatch / applyOp. */
export class PatchError extends Error {
  /** "invalid_patch": malformed op (unknown op, bad pointer, missing value).
   * "conflict": well-formed, but does not apply to this document. */
  code: 'invalid_patch' | 'conflict';
  /** Position of the failing op in the patch. */
  index: number | undefined;
}

/** Applies a patch all-or-nothing and returns the new document. Never
 * mutates `doc`: the result shares untouched subtrees with it. Throws
 * PatchError. */
export function applyPatch<T = JSONValue>(doc: unknown, ops: readonly Operation[]): T;

/** Applies one op (see applyPatch). */
export function applyOp<T = JSONValue>(doc: unknown, op: Operation, index?: number): T;

/** A patch turning `a` into `b`: adds for new keys (in b's order), removes
 * for dropped ones, recursion into common containers; arrays by common
 * prefix/suffix then element by element. Equal values give []. */
export function diff(a: unknown, b: unknown): Operation[];

/** Deep equality of JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean;

/** The value a pointer names, or undefined. Throws PatchError on bad syntax. */
export function getPointer(doc: unknown, pointer: string): JSONValue | undefined;

/** Splits a pointer into unescaped tokens ("" -> []). */
export function parsePointer(pointer: string): string[];

/** Joins tokens into a pointer, escaping "~" and "/". */
export function formatPointer(tokens: ReadonlyArray<string | number>): string;
