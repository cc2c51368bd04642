import { ApiProperty } from '@nestjs/swagger';
import { USAGE_GROUPS, type UsageGroupBy } from './usage-query.dto';

export class UsageRowDto {
  @ApiProperty({
    example: '2026-11-28',
    description:
      'key: the key id (`env:<provider>` for the operator key); provider: its id; model: `provider/model`; day: YYYY-MM-DD (UTC); day-provider, day-key: `YYYY-MM-DD/<provider or key>`.',
  })
  group: string;

  @ApiProperty({ example: 42 }) requests: number;
  @ApiProperty({
    example: 1,
    description: 'Requests that failed (HTTP ≥ 400 or an error mid-stream).',
  })
  errors: number;
  @ApiProperty({ example: 12000 }) promptTokens: number;
  @ApiProperty({ example: 3400 }) completionTokens: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.01428,
    description:
      'Estimated from the price table; null when a model that used tokens has no price (never a silent 0).',
  })
  cost: number | null;

  @ApiProperty({
    example: 0.01428,
    description:
      'The estimated cost of the requests whose model has a price: with unpricedRequests, what to show when cost is null.',
  })
  pricedCost: number;

  @ApiProperty({
    example: 0,
    description: 'Requests on a model without a price that used tokens: not in pricedCost.',
  })
  unpricedRequests: number;

  @ApiProperty({ enum: ['USD'] }) currency: 'USD';
}

export class UsageReportDto {
  @ApiProperty({ type: [UsageRowDto] }) data: UsageRowDto[];
  @ApiProperty({ format: 'date-time', description: 'Start of the range (inclusive).' })
  from: string;
  @ApiProperty({ format: 'date-time', description: 'End of the range (exclusive).' })
  to: string;
  @ApiProperty({ enum: USAGE_GROUPS }) groupBy: UsageGroupBy;
}
