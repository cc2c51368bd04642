import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { TokensModule } from '../tokens/tokens.module';
import { AdminController } from './admin.controller';

@Module({ imports: [KeysModule, TokensModule], controllers: [AdminController] })
export class AdminModule {}
