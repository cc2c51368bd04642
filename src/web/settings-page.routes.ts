import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { registerSettingsPage, SETTINGS_PAGE_ROOT } from './settings-page';

/** Registers the settings page on Fastify at start-up, like the proxy's own routes. */
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
