import { Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { registerSettingsPage, SETTINGS_PAGE_ROOT } from './settings-page';

@Injectable()
export class SettingsPageRoutes implements OnModuleInit {
  private readonly logger = new Logger('SettingsPage');

  constructor(private readonly host: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.host.httpAdapter.getInstance<FastifyInstance>();
    if (registerSettingsPage(fastify) === 'not-built')
      this.logger.warn(
        `No settings page bundle in ${SETTINGS_PAGE_ROOT}: GET / answers 503 until \`npm run build\` has run`,
      );
  }
}

/** The settings page (web/, built by Vite) at `/`. */
@Module({ providers: [SettingsPageRoutes] })
export class WebModule {}
