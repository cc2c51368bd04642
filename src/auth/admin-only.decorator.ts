import { SetMetadata } from '@nestjs/common';

export const ADMIN_ONLY = 'byok:admin-only';

/** 403 unless the caller's JWT carries AUTH_ADMIN_CLAIM = AUTH_ADMIN_VALUE (never an access token). */
export const AdminOnly = (): MethodDecorator & ClassDecorator => SetMetadata(ADMIN_ONLY, true);
