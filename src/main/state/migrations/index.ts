// The state store's migration chain. Add a file NNNN_name.ts and list it here; never edit an applied one (its
// checksum is recorded and a changed text refuses to start). Numbers need not be contiguous; order does not matter.
import type { SqliteMigration } from '../migrate';
import m0001 from './0001_flags';
import m0002 from './0002_event_inbox';
import m0003 from './0003_metrics';
import m0004 from './0004_backfill_jobs';
import m0005 from './0005_subscriptions';
import m0006 from './0006_backfill_owner';
import m0007 from './0007_alert_acks';

export const STATE_MIGRATIONS: readonly SqliteMigration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007];
