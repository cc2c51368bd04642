import { Module } from '@nestjs/common';
import { ProviderRegistryService } from './provider-registry.service';
import { ProvidersController } from './providers.controller';

/** The provider registry; needs ConfigModule (global) for APP_CONFIG. */
@Module({
  controllers: [ProvidersController],
  providers: [ProviderRegistryService],
  exports: [ProviderRegistryService],
})
export class ProvidersModule {}
