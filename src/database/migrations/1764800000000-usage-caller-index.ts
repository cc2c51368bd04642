import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Additive: an index for the usage API's per-caller query of operator-key use. */
export class UsageCallerIndex1764800000000 implements MigrationInterface {
  name = 'UsageCallerIndex1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "usage_events_caller_time" ON "usage_events" ("caller_sub", "created_at")`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "usage_events_caller_time"`);
  }
}
