import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Additive: a nullable column and a new table, so old pods keep serving while it runs. */
export class Limits1764700000000 implements MigrationInterface {
  name = 'Limits1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "user_limits" ("sub" character varying(255) NOT NULL, "limits" jsonb NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_343b05b0fa44a79068481c81287" PRIMARY KEY ("sub"))`,
    );
    await q.query(`ALTER TABLE "api_keys" ADD "limits" jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "api_keys" DROP COLUMN "limits"`);
    await q.query(`DROP TABLE "user_limits"`);
  }
}
