#!/usr/bin/env node
// The `megaphone` binary: the CLI with Node's services, SPEC §7 exit codes and clean shutdown on Ctrl+C.
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { run } from "../src/cli/Cli.ts"
import { reportFailures, teardown } from "../src/cli/Failure.ts"

NodeRuntime.runMain(run(process.argv.slice(2)).pipe(reportFailures, Effect.provide(NodeServices.layer)), { teardown })
