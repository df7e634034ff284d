// chain:underlyings and chain:distribution over the ChainService (src/main/subscriptions/chain-service.ts).
import type { ChainService } from '../subscriptions/chain-service';
import type { Handlers } from './console-api';

export function chainHandlers(chains: ChainService): Pick<Handlers, 'chain:underlyings' | 'chain:distribution'> {
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
      }),
  };
}
