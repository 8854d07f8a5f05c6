#!/usr/bin/env -S node --max-semi-space-size=8
// The `megaphone` binary: the CLI with Node's services, SPEC §7 exit codes and clean shutdown on Ctrl+C.
// V8 sizes its young generation by the machine's memory (up to hundreds of MB on a big server); 8 MB semi-spaces
// keep a million-row import or add near 250 MB at no measurable cost in speed (docs/benchmarks.md).
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { run } from "../src/cli/Cli.ts"
import { reportFailures, teardown } from "../src/cli/Failure.ts"

NodeRuntime.runMain(run(process.argv.slice(2)).pipe(reportFailures, Effect.provide(NodeServices.layer)), { teardown })
