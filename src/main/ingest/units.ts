// Greek units. Strikedesk stores and shows theta per calendar day and vega per volatility point (0.01). The real
// ticker service publishes theta / 365 and vega / 100 (divided twice, on live ticks and in /history candles alike,
// see docs/ticker-contract.md): such a source is rescaled here, on the way in, so no bar ever averages values of
// two scales. STRIKEDESK_SOURCE_GREEKS says which the source publishes.

export type SourceGreeks = 'scaled' | 'true';
export const SOURCE_GREEKS_DEFAULT: SourceGreeks = 'scaled';
/** What a 'scaled' source divided by. */
export const SOURCE_THETA_DIVISOR = 365;
export const SOURCE_VEGA_DIVISOR = 100;

export interface Greeks {
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
}

/**
 * Greeks as the source sent them -> valid greeks in true units: invalid values and the all-zero "not computed"
 * marker become missing (validGreeks), then theta and vega of a scaled source are multiplied back.
 */
export function greeksInTrueUnits(raw: Partial<Record<keyof Greeks, number | null | undefined>>, source: SourceGreeks): Greeks {
  const g = validGreeks(raw);
  if (source === 'true') return g;
  return { ...g, theta: g.theta === null ? null : g.theta * SOURCE_THETA_DIVISOR, vega: g.vega === null ? null : g.vega * SOURCE_VEGA_DIVISOR };
}

/**
 * Greeks as the feed carries them, made null where invalid: iv must be in (0, 5] (a decimal), |delta| <= 1,
 * gamma and vega >= 0, theta finite. All five exactly 0 is the "not computed" marker (futures always send it, and
 * so does the real service when its IV solve fails): all missing, never averaged in as zero.
 */
export function validGreeks(g: { iv?: number | null; delta?: number | null; gamma?: number | null; theta?: number | null; vega?: number | null }): {
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
} {
  const iv = g.iv ?? null;
  const delta = g.delta ?? null;
  const gamma = g.gamma ?? null;
  const theta = g.theta ?? null;
  const vega = g.vega ?? null;
  // The marker may come with a NaN iv (read as null): every greek present being 0 is the marker too.
  const zeroOrAbsent = (v: number | null) => v === null || v === 0;
  if ([iv, delta, gamma, theta, vega].every(zeroOrAbsent)) return { iv: null, delta: null, gamma: null, theta: null, vega: null };
  return {
    iv: iv !== null && Number.isFinite(iv) && iv > 0 && iv <= 5 ? iv : null,
    delta: delta !== null && Number.isFinite(delta) && delta >= -1 && delta <= 1 ? delta : null,
    gamma: gamma !== null && Number.isFinite(gamma) && gamma >= 0 ? gamma : null,
    theta: theta !== null && Number.isFinite(theta) ? theta : null,
    vega: vega !== null && Number.isFinite(vega) && vega >= 0 ? vega : null,
  };
}
