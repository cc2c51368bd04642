import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyEntity } from '../database/entities';
import { ProvidersModule } from '../providers/providers.module';
import { KeyResolver } from './key-resolver.service';
import { KeyVerifier } from './key-verifier';
import { KeyRepository } from './key.repository';
import { OrgKeysController, UserKeysController } from './keys.controller';
import { KeysService } from './keys.service';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity]), ProvidersModule],
  controllers: [UserKeysController, OrgKeysController],
  providers: [KeyRepository, KeysService, KeyVerifier, KeyResolver],
  exports: [KeysService, KeyResolver, KeyRepository],
})
export class KeysModule {}
