import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Daily usage rollups and the audit log. Additive: old pods keep serving while it runs.
 * The trigger makes audit_events append-only for every client of the database, not only for
 * this service; the schema-drift check cannot see triggers, so integration tests prove it.
 */
export class UsageDailyAudit1764600000000 implements MigrationInterface {
  name = 'UsageDailyAudit1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "usage_daily" ("id" BIGSERIAL NOT NULL, "day" date NOT NULL, "caller_sub" character varying(255) NOT NULL, "owner_type" character varying(8) NOT NULL, "owner_id" character varying(255) NOT NULL, "key_id" uuid, "provider" character varying(64) NOT NULL, "model" character varying(200), "requests" bigint NOT NULL, "errors" bigint NOT NULL, "prompt_tokens" bigint NOT NULL, "completion_tokens" bigint NOT NULL, CONSTRAINT "PK_b0d404396506036eee9af200809" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "usage_daily_caller_day" ON "usage_daily" ("caller_sub", "day")`);
    await q.query(
      `CREATE INDEX "usage_daily_owner_day" ON "usage_daily" ("owner_type", "owner_id", "day")`,
    );
    await q.query(
      `CREATE TABLE "audit_events" ("id" BIGSERIAL NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "actor_sub" character varying(255), "actor_kind" character varying(16) NOT NULL, "action" character varying(64) NOT NULL, "target_type" character varying(16), "target_id" character varying(255), "key_hint" character varying(8), "provider" character varying(64), "owner_type" character varying(8), "owner_id" character varying(255), "ip" character varying(64), "request_id" character varying(128), "detail" jsonb, CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "audit_events_action" ON "audit_events" ("action", "at")`);
    await q.query(`CREATE INDEX "audit_events_target" ON "audit_events" ("target_id")`);
    await q.query(`CREATE INDEX "audit_events_actor" ON "audit_events" ("actor_sub", "at")`);
    await q.query(`CREATE INDEX "audit_events_at" ON "audit_events" ("at", "id")`);
    await q.query(
      `CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$`,
    );
    await q.query(
      `CREATE TRIGGER "audit_events_no_change" BEFORE UPDATE OR DELETE ON "audit_events" FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"()`,
    );
    await q.query(
      `CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events" FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "audit_events"`);
    await q.query(`DROP FUNCTION "audit_events_append_only"()`);
    await q.query(`DROP TABLE "usage_daily"`);
  }
}
