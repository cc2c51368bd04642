import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Additive: the non-secret parameters of a key (region, resource, project, location, its own
 * base URL), and room for hints that show both ends of an identifier (`AKIA…WXYZ`).
 */
export class KeyParams1765000000000 implements MigrationInterface {
  name = 'KeyParams1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "api_keys" ADD "params" jsonb`);
    await q.query(`ALTER TABLE "api_keys" ALTER COLUMN "key_hint" TYPE character varying(16)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "api_keys" ALTER COLUMN "key_hint" TYPE character varying(8)`);
    await q.query(`ALTER TABLE "api_keys" DROP COLUMN "params"`);
  }
}
