import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1764400000000 implements MigrationInterface {
  name = 'Init1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "api_keys" ("id" uuid NOT NULL, "owner_type" character varying(8) NOT NULL, "owner_id" character varying(255) NOT NULL, "provider" character varying(64) NOT NULL, "key_name" character varying(100) NOT NULL, "key_hint" character varying(8) NOT NULL, "is_active" boolean NOT NULL DEFAULT true, "invalid" boolean NOT NULL DEFAULT false, "priority" integer NOT NULL DEFAULT '0', "version" integer NOT NULL DEFAULT '1', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_used_at" TIMESTAMP WITH TIME ZONE, "last_verified_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "api_keys_owner_provider_name" ON "api_keys" ("owner_type", "owner_id", "provider", "key_name")`,
    );
    await q.query(
      `CREATE TABLE "access_tokens" ("id" uuid NOT NULL, "owner_sub" character varying(255) NOT NULL, "org_id" character varying(255), "name" character varying(100) NOT NULL, "token_hash" character varying(64) NOT NULL, "providers" text array, "expires_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_65140f59763ff994a0252488166" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "access_tokens_owner" ON "access_tokens" ("owner_sub")`);
    await q.query(`CREATE UNIQUE INDEX "access_tokens_hash" ON "access_tokens" ("token_hash")`);
    await q.query(
      `CREATE TABLE "local_secrets" ("key_id" uuid NOT NULL, "version" integer NOT NULL, "ciphertext" bytea NOT NULL, "nonce" bytea NOT NULL, "auth_tag" bytea NOT NULL, "master_key_id" character varying(16) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_0b72f6c1b98c7c7f4405dc35c55" PRIMARY KEY ("key_id", "version"))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "local_secrets"`);
    await q.query(`DROP TABLE "access_tokens"`);
    await q.query(`DROP TABLE "api_keys"`);
  }
}
