import { Module } from '@nestjs/common';
import { SettingsPageRoutes } from './settings-page.routes';

/** The settings page (web/, built by Vite) at `/`. */
@Module({ providers: [SettingsPageRoutes] })
export class WebModule {}
