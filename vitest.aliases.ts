import { fileURLToPath } from 'node:url'

const root = (p: string) => fileURLToPath(new URL(p, import.meta.url))

/** Tests run against the sources of sibling packages, without a build. */
export const sourceAliases = {
  '@herald/protocol': root('./sdks/protocol/src/index.ts'),
  '@herald/client': root('./sdks/browser/src/index.ts'),
  '@herald/node': root('./sdks/node/src/index.ts'),
  '@herald/react': root('./sdks/react/src/index.ts'),
}
