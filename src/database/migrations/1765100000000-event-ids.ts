import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Additive: an id made with each usage and audit row, unique, so that a batch written again after
 * a timed-out answer (the database may have committed it) is not counted twice. Rows already
 * stored get a random one.
 */
export class EventIds1765100000000 implements MigrationInterface {
  name = 'EventIds1765100000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['usage_events', 'audit_events']) {
      await q.query(
        `ALTER TABLE "${table}" ADD COLUMN "event_id" uuid NOT NULL DEFAULT gen_random_uuid()`,
      );
      await q.query(`ALTER TABLE "${table}" ALTER COLUMN "event_id" DROP DEFAULT`);
      await q.query(`CREATE UNIQUE INDEX "${table}_event_id" ON "${table}" ("event_id")`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['usage_events', 'audit_events']) {
      await q.query(`DROP INDEX "${table}_event_id"`);
      await q.query(`ALTER TABLE "${table}" DROP COLUMN "event_id"`);
    }
  }
}
