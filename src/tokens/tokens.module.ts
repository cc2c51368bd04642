import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessTokenEntity } from '../database/entities/access-token.entity';
import { ProvidersModule } from '../providers/providers.module';
import { TokenRepository } from './token.repository';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

/** Proxy access tokens; exports TokensService for the auth guard. */
@Module({
  imports: [TypeOrmModule.forFeature([AccessTokenEntity]), ProvidersModule],
  controllers: [TokensController],
  providers: [TokenRepository, TokensService],
  exports: [TokensService],
})
export class TokensModule {}
