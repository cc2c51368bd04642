import { Module } from '@nestjs/common';
import { TokensModule } from '../tokens/tokens.module';
import { AuthGuard } from './auth.guard';
import { JwtStrategy } from './jwt.strategy';

/**
 * Client authentication. AppModule imports it and registers the guard globally:
 * `{ provide: APP_GUARD, useExisting: AuthGuard }`.
 */
@Module({
  imports: [TokensModule],
  providers: [JwtStrategy, AuthGuard],
  exports: [AuthGuard, JwtStrategy],
})
export class AuthModule {}
