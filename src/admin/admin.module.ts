import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { KeysModule } from '../keys/keys.module';
import { TokensModule } from '../tokens/tokens.module';
import { AdminKeysService } from './admin-keys.service';
import { AdminController } from './admin.controller';

/** Administrators' routes: keys across owners and anyone's tokens (limits live in limits/). */
@Module({
  imports: [AuditModule, KeysModule, TokensModule],
  controllers: [AdminController],
  providers: [AdminKeysService],
})
export class AdminModule {}
