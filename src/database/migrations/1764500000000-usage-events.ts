import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Additive: old pods keep serving while it runs. */
export class UsageEvents1764500000000 implements MigrationInterface {
  name = 'UsageEvents1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "usage_events" ("id" BIGSERIAL NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "caller_sub" character varying(255) NOT NULL, "owner_type" character varying(8) NOT NULL, "owner_id" character varying(255) NOT NULL, "key_id" uuid, "provider" character varying(64) NOT NULL, "model" character varying(200), "operation" character varying(64) NOT NULL, "status" integer NOT NULL, "error_type" character varying(64), "latency_ms" integer NOT NULL, "prompt_tokens" integer, "completion_tokens" integer, "request_id" character varying(128) NOT NULL, CONSTRAINT "PK_c9f17d50873fab2c46615f542bc" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "usage_events_key" ON "usage_events" ("key_id")`);
    await q.query(
      `CREATE INDEX "usage_events_owner_time" ON "usage_events" ("owner_type", "owner_id", "created_at")`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "usage_events"`);
  }
}
