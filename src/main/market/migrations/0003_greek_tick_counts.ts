// Ticks that carried a valid value, per greek and side: a 5/15-minute roll-up weights each minute's greek by these
// (a minute whose ticks all lacked greeks must not weigh in as if they had them). Null on backfilled candles and
// on rows written before this migration: the roll-up then weighs the minute by its tick count (at least 1).
const cols = (s: 'call' | 'put') => ['iv', 'delta', 'gamma', 'theta', 'vega'].map((g) => `ADD COLUMN ${s}_${g}_n integer`).join(', ');

export default {
  version: 3,
  name: 'strike bars: ticks with a valid value per greek',
  up: `ALTER TABLE fo_strike_bars ${cols('call')}, ${cols('put')};`,
};
