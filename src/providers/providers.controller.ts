import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ProviderDto, ProviderListDto } from './dto/provider.dto';
import { ProviderRegistryService } from './provider-registry.service';

@ApiTags('providers')
@Controller('api/providers')
export class ProvidersController {
  constructor(private readonly registry: ProviderRegistryService) {}

  @Get()
  @ApiOperation({ summary: 'The provider registry, without secrets' })
  @ApiOkResponse({ type: ProviderListDto })
  list(): ProviderListDto {
    const data = this.registry
      .list()
      .map((p) => ProviderDto.from(p, this.registry.envFallbackAvailable(p.id)));
    return { data };
  }
}
