import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsageEventEntity } from '../database/entities';
import { KeysModule } from '../keys/keys.module';
import { UsageRecorder } from './usage.recorder';

@Module({
  imports: [TypeOrmModule.forFeature([UsageEventEntity]), KeysModule],
  providers: [UsageRecorder],
  exports: [UsageRecorder],
})
export class UsageModule {}
