import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { TokensModule } from '../tokens/tokens.module';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';
import { JwtStrategy } from './jwt.strategy';

/**
 * Client authentication: Authenticator (headers → Caller) for the proxy, and the guard that
 * wraps it for Nest routes. AppModule registers the guard globally:
 * `{ provide: APP_GUARD, useExisting: AuthGuard }`.
 */
@Module({
  imports: [TokensModule, AuditModule],
  providers: [JwtStrategy, Authenticator, AuthGuard],
  exports: [Authenticator, AuthGuard, JwtStrategy],
})
export class AuthModule {}
