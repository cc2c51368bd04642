import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { AdminController } from './admin.controller';

@Module({ imports: [KeysModule], controllers: [AdminController] })
export class AdminModule {}
