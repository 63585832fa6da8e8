// Bounded waits: every one ends, with a message that says what it waited
// for.

import { WAIT } from './env.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls fn (sync or async) until it returns something truthy and resolves
 * with that value; throws after `ms`. An exception from fn counts as "not
 * yet"; the last one is quoted in the timeout's message.
 */
export async function until(fn, what = 'condition', ms = WAIT, { interval = 10 } = {}) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}` + (last ? ` (last error: ${last.message})` : ''));
    }
    await sleep(interval);
  }
}

/** until() with its options in an object: { timeout, interval, message }. */
export function waitFor(fn, { timeout = WAIT, interval = 10, message = 'condition' } = {}) {
  return until(fn, message, timeout, { interval });
}

/** The promise's outcome, or a rejection naming `what` after `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
