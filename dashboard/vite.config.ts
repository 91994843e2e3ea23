/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { sourceAliases } from '../vitest.aliases.js'

/**
 * The dashboard is served by the service at `/dashboard/` under a strict CSP
 * (`script-src 'self'; style-src 'self'`), so the build must emit only external
 * scripts and stylesheets. Workspace packages are compiled from their sources.
 */
export default defineConfig({
  base: '/dashboard/',
  plugins: [react()],
  resolve: { alias: sourceAliases },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inlined assets: everything is a file under 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
  preview: { host: '127.0.0.1' },
  server: { host: '127.0.0.1' },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
})
