// `npm run build -w @herald/client` from a clean checkout: the type declarations of
// @herald/protocol must exist before tsc compiles this package. Turbo builds it first
// anyway (`^build`); this covers a direct workspace build.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const protocol = fileURLToPath(new URL('../../protocol/', import.meta.url))
if (!existsSync(protocol + 'dist/index.d.ts')) {
  console.log('building @herald/protocol first')
  execFileSync('npm', ['run', 'build'], { cwd: protocol, stdio: 'inherit' })
}
