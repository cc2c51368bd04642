import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyEntity } from '../database/entities';
import { AuditModule } from '../audit/audit.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ProvidersModule } from '../providers/providers.module';
import { RedisModule } from '../redis/redis.module';
import { SecretStoreModule } from '../secret-store/secret-store.module';
import { UpstreamModule } from '../upstream/upstream.module';
import { KeyHealth } from './key-health';
import { KeyResolver } from './key-resolver';
import { KeyVerifier } from './key-verifier';
import { KeyRepository } from './key.repository';
import { OrgKeysController, UserKeysController } from './keys.controller';
import { KeysService } from './keys.service';
import { KeyWriter } from './key-writer';

@Module({
  imports: [
    TypeOrmModule.forFeature([ApiKeyEntity]),
    AuditModule,
    MetricsModule,
    ProvidersModule,
    RedisModule,
    SecretStoreModule,
    UpstreamModule,
  ],
  controllers: [UserKeysController, OrgKeysController],
  providers: [KeyRepository, KeysService, KeyWriter, KeyVerifier, KeyResolver, KeyHealth],
  exports: [KeysService, KeyResolver, KeyRepository, KeyHealth],
})
export class KeysModule {}
