// Deterministic noise: every number the simulator produces is a pure function of (seed, instrument, time) through
// these integer hashes, so a minute can be recomputed at any later moment (history == what was streamed).

/** A 32-bit avalanche mix (murmur3 finalizer). */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of up to four integers (each taken modulo 2^32). */
export function hash4(a: number, b: number, c = 0, d = 0): number {
  let h = mix32((a | 0) ^ 0x9e3779b9);
  h = mix32(h ^ Math.imul(b | 0, 0x27d4eb2f));
  h = mix32(h ^ Math.imul(c | 0, 0x165667b1));
  return mix32(h ^ Math.imul(d | 0, 0x61c88647));
}

/** Uniform in [0, 1). */
export function unit(h: number): number {
  return h / 4294967296;
}

/** Uniform in [0, 1) from four integers. */
export function u4(a: number, b: number, c = 0, d = 0): number {
  return hash4(a, b, c, d) / 4294967296;
}

/** A standard normal variate from four integers (Box-Muller on two derived hashes). */
export function gauss4(a: number, b: number, c = 0, d = 0): number {
  const h = hash4(a, b, c, d);
  const u1 = (mix32(h ^ 0x5bd1e995) + 1) / 4294967297;
  const u2 = mix32(h + 0x6c078965) / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Smooth value noise in [-1, 1] along x (cosine-interpolated random knots at integers). */
export function smoothNoise(seed: number, key: number, x: number): number {
  const i = Math.floor(x);
  const f = x - i;
  const a = u4(seed, key, i, 0x51ed) * 2 - 1;
  const b = u4(seed, key, i + 1, 0x51ed) * 2 - 1;
  const w = (1 - Math.cos(Math.PI * f)) * 0.5;
  return a + (b - a) * w;
}

/** FNV-1a of a string, for turning symbols into hash keys. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded PRNG (mulberry32) for non-market randomness such as fault injection. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Number of set bits of a 32-bit integer. */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Acklam's inverse standard normal CDF (relative error < 1.2e-9), used to build the lookup table below. */
function inverseNormal(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -inverseNormal(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

const NORMAL_TABLE = (() => {
  const t = new Float64Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = inverseNormal((i + 0.5) / 65536);
  return t;
})();

/** The table index fastGauss4 uses, for callers that precompute functions of the variate. */
export function gaussIndex4(a: number, b: number, c = 0, d = 0): number {
  return hash4(a, b, c, d) >>> 16;
}

/** exp(scale * z) for every table variate z: a per-second multiplicative step of a log-normal walk. */
export function expStepTable(scale: number): Float64Array {
  const t = new Float64Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = Math.exp(scale * NORMAL_TABLE[i]);
  return t;
}

/** A fast normal variate from four integers: a 65536-entry inverse-CDF table (for per-second index steps). */
export function fastGauss4(a: number, b: number, c = 0, d = 0): number {
  return NORMAL_TABLE[hash4(a, b, c, d) >>> 16];
}
