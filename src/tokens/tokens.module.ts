import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessTokenEntity, OrgSightingEntity } from '../database/entities';
import { AuditModule } from '../audit/audit.module';
import { ProvidersModule } from '../providers/providers.module';
import { RedisModule } from '../redis/redis.module';
import { TokenRepository } from './token.repository';
import { OrgSightingRepository } from './org-sighting.repository';
import { OrgSightings } from './org-sightings';
import { OrgTokensController, TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

/** Proxy access tokens; exports TokensService for authentication. */
@Module({
  imports: [
    TypeOrmModule.forFeature([AccessTokenEntity, OrgSightingEntity]),
    AuditModule,
    ProvidersModule,
    RedisModule,
  ],
  controllers: [TokensController, OrgTokensController],
  providers: [TokenRepository, TokensService, OrgSightingRepository, OrgSightings],
  exports: [TokensService, OrgSightings],
})
export class TokensModule {}
