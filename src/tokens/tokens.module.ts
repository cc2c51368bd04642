import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessTokenEntity } from '../database/entities/access-token.entity';
import { AuditModule } from '../audit/audit.module';
import { ProvidersModule } from '../providers/providers.module';
import { RedisModule } from '../redis/redis.module';
import { TokenRepository } from './token.repository';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

/** Proxy access tokens; exports TokensService for authentication. */
@Module({
  imports: [
    TypeOrmModule.forFeature([AccessTokenEntity]),
    AuditModule,
    ProvidersModule,
    RedisModule,
  ],
  controllers: [TokensController],
  providers: [TokenRepository, TokensService],
  exports: [TokensService],
})
export class TokensModule {}
