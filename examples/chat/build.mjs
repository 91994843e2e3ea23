// Bundles the chat example (src/main.tsx, React + @herald/react) to dist/chat.js, which
// index.html loads. The workspace packages are compiled from their sources, so this needs
// no other build first.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))

await build({
  entryPoints: [here('src/main.tsx')],
  outfile: here('dist/chat.js'),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: 'es2020',
  platform: 'browser',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  alias: {
    '@herald/protocol': here('../../sdks/protocol/src/index.ts'),
    '@herald/client': here('../../sdks/browser/src/index.ts'),
    '@herald/react': here('../../sdks/react/src/index.ts'),
  },
  legalComments: 'none',
  logLevel: 'info',
})
