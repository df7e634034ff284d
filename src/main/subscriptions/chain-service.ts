// The ChainService moved to src/main/chain/service.ts (the chain read model is its own module). This re-export only
// keeps subscriptions/faults.test.ts compiling while another change owns that file: delete it once the test imports
// from '../chain/service'.
export { ChainService } from '../chain/service';
