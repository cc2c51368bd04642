import { type DynamicModule, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/app-config';
import { DatabaseBreaker } from './database-breaker';
import type { DatabaseHandle } from './data-source';

/**
 * TypeORM on the opened database; runs migrations at start unless MIGRATIONS_RUN=false. Global,
 * like TypeORM's DataSource: the database's breaker is shared by every module that reads it.
 */
@Module({})
export class DatabaseModule {
  static forRoot(config: AppConfig, handle: DatabaseHandle): DynamicModule {
    class EmbeddedCloser implements OnApplicationShutdown {
      // Runs after TypeORM has closed its pool, so PGlite stops last.
      async onApplicationShutdown(): Promise<void> {
        await handle.close();
      }
    }
    return {
      module: DatabaseModule,
      global: true,
      imports: [
        TypeOrmModule.forRoot({
          ...handle.options,
          migrationsRun: config.database.migrationsRun,
          migrationsTransactionMode: 'each',
        }),
      ],
      providers: [EmbeddedCloser, DatabaseBreaker],
      exports: [DatabaseBreaker],
    };
  }
}
