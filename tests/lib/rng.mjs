// The one seeded random generator of the tests, the benchmark and the
// fixture generators (mulberry32), so a failing run can be replayed from
// the seed it printed.

import crypto from 'node:crypto';

/** A generator of floats in [0, 1) from a 32-bit seed, with helpers:
 * int(n) in [0, n), pick(array), shuffle(array) in place. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (arr) => arr[next.int(arr.length)];
  next.shuffle = (arr) => {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = next.int(i + 1);
      [arr[i], arr[j]] = [arr[j], arr[i]];
    }
    return arr;
  };
  return next;
}

/** The seed in $name, or a fresh random one (print it, so it can be
 * given back). */
export function seedFromEnv(name) {
  const v = process.env[name];
  return v ? Number(v) : crypto.randomInt(1, 2 ** 31);
}
