import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, Max, Min, ValidateIf } from 'class-validator';

const orNull = (_: object, v: unknown) => v !== null;

/** Limits of a user or key; omitted or null means no limit of that kind. */
export class LimitsDto {
  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 1,
    maximum: 1_000_000_000,
    example: 60,
  })
  @Max(1_000_000_000)
  @Min(1)
  @IsInt()
  @ValidateIf(orNull)
  @IsOptional()
  requestsPerMinute?: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 1,
    maximum: 1_000_000_000_000,
    example: 100000,
  })
  @Max(1_000_000_000_000)
  @Min(1)
  @IsInt()
  @ValidateIf(orNull)
  @IsOptional()
  tokensPerMinute?: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 1,
    maximum: 1_000_000_000_000,
    example: 2000000,
  })
  @Max(1_000_000_000_000)
  @Min(1)
  @IsInt()
  @ValidateIf(orNull)
  @IsOptional()
  tokensPerDay?: number | null;

  @ApiPropertyOptional({
    type: 'number',
    nullable: true,
    minimum: 0,
    maximum: 1_000_000_000,
    example: 25,
    description:
      'USD per calendar month (UTC), estimated from the price table; kept to the micro-dollar (rounded to 6 decimal places)',
  })
  @Max(1_000_000_000)
  @Min(0)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @ValidateIf(orNull)
  @IsOptional()
  monthlyBudgetUsd?: number | null;
}

export function toLimits(d: LimitsDto): {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  tokensPerDay: number | null;
  monthlyBudgetUsd: number | null;
} {
  return {
    requestsPerMinute: d.requestsPerMinute ?? null,
    tokensPerMinute: d.tokensPerMinute ?? null,
    tokensPerDay: d.tokensPerDay ?? null,
    // Budgets are counted in micro-dollars (limitOf), so that is all the precision kept.
    monthlyBudgetUsd:
      d.monthlyBudgetUsd === undefined || d.monthlyBudgetUsd === null
        ? null
        : Math.round(d.monthlyBudgetUsd * 1_000_000) / 1_000_000,
  };
}
