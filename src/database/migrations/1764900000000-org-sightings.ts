import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Additive: where each user's JWTs were last seen (which organisation), so access tokens stop
 * reaching an organisation's keys once their owner is seen without it; and an index for the org
 * admin's token list.
 */
export class OrgSightings1764900000000 implements MigrationInterface {
  name = 'OrgSightings1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "org_sightings" ("sub" character varying(255) NOT NULL, "org_id" character varying(255), "seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_01bcb50c97a55a9b345eff6e23c" PRIMARY KEY ("sub"))`,
    );
    await q.query(`CREATE INDEX "access_tokens_org" ON "access_tokens" ("org_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "access_tokens_org"`);
    await q.query(`DROP TABLE "org_sightings"`);
  }
}
