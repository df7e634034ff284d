// Who runs a backfill job: the running console's owner id and a lease it renews while it works. One console per
// data directory is enforced by the home lock; the lease keeps a job from being run twice even if two processes ever
// share this file (a copied home, a lock on a network filesystem that does not hold), and a crashed owner's job is
// taken over once its lease lapses. The index serves the retention of finished jobs.
export default {
  version: 6,
  name: 'backfill job owner and lease',
  up: `
    ALTER TABLE backfill_jobs ADD COLUMN owner TEXT;
    ALTER TABLE backfill_jobs ADD COLUMN lease_until INTEGER;
    CREATE INDEX backfill_jobs_finished ON backfill_jobs (finished_at) WHERE state IN ('done', 'failed', 'cancelled');
  `,
};
