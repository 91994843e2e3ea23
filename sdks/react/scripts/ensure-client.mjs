// `npm run build -w @herald/react` from a clean checkout: the type declarations of
// @herald/client (and so @herald/protocol) must exist before tsc compiles this package.
// Turbo builds them first anyway (`^build`); this covers a direct workspace build.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const client = fileURLToPath(new URL('../../browser/', import.meta.url))
if (!existsSync(`${client}dist/index.d.ts`)) {
  console.log('building @herald/client first')
  execFileSync('npm', ['run', 'build'], { cwd: client, stdio: 'inherit' })
}
