import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

let lastTime = 0;
let lastRandom: Buffer = Buffer.alloc(0);

/**
 * Random bytes drawn 4 KiB at a time: one call into the CSPRNG per few hundred ids instead of
 * one per id (the call, not the bytes, is what costs). Each caller gets its own fresh copy.
 */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = POOL_SIZE;

function pooledRandom(size: number): Buffer {
  if (poolOffset + size > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + size));
  poolOffset += size;
  return bytes;
}

/**
 * A new task id: 10 characters of millisecond time then 16 of randomness (a lower-case ULID).
 * Ids sort by creation time, so logs and folders read in order; within one millisecond the
 * random part is incremented, so ids from one process stay strictly increasing.
 */
export function newTaskId(now: number = Date.now()): string {
  let random: Buffer;
  if (now <= lastTime) {
    now = lastTime;
    random = increment(lastRandom);
  } else {
    random = pooledRandom(10);
  }
  lastTime = now;
  lastRandom = random;
  return encodeTime(now) + encodeRandom(random);
}

/** A random token that fences the writes of one claim. */
export function newClaimToken(): string {
  return pooledRandom(12).toString('base64url');
}

function encodeTime(time: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[time % 32] + out;
    time = Math.floor(time / 32);
  }
  return out;
}

function encodeRandom(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

function increment(bytes: Buffer): Buffer {
  const next = Buffer.from(bytes);
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 255) {
      next[i]!++;
      return next;
    }
    next[i] = 0;
  }
  return pooledRandom(10);
}
