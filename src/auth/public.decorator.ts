import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'byok:public';

/** Skips authentication: health checks, docs, the settings page shell. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
