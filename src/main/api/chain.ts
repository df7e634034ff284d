// chain:underlyings, chain:distribution and chain:strikeHistory over the ChainService
// (src/main/chain/service.ts).
import type { ChainService } from '../chain/service';
import type { Handlers } from './console-api';

export function chainHandlers(chains: ChainService): Pick<Handlers, 'chain:underlyings' | 'chain:distribution' | 'chain:strikeHistory'> {
  return {
    'chain:underlyings': () => chains.underlyings(),
    'chain:distribution': (req) =>
      chains.distribution({
        symbol: req.symbol,
        expiries: req.expiries,
        timeframe: req.timeframe,
        strikeRange: req.strikeRange,
        autoSubscribe: req.autoSubscribe,
        centerStrike: req.centerStrike,
        // The schema accepted an ISO-8601 instant with an offset: Date.parse reads it exactly.
        at: req.at === undefined ? undefined : Date.parse(req.at),
        includePartial: req.includePartial,
        oiChangeBasis: req.oiChangeBasis,
      }),
    'chain:strikeHistory': (req) =>
      chains.strikeHistory({ symbol: req.symbol, expiry: req.expiry, strike: req.strike, timeframe: req.timeframe, minutes: req.minutes }),
  };
}
