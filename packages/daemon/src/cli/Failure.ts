/**
 * How a command fails: one message for people (what, where, how to fix), exit code 1. Usage errors are the
 * CLI parser's and exit with 2 (SPEC §7).
 */
import { Cause, Console, Effect, Exit, Runtime, Schema } from "effect"
import { CliError } from "effect/cli"

/** A command could not do its work; the message says what happened and how to fix it. */
export class CommandFailed extends Schema.TaggedError<CommandFailed>()("CommandFailed", {
  message: Schema.String
}) {
  override readonly [Runtime.errorExitCode] = 1
  // `reportFailures` prints it for people; the runtime must not print it again with a stack trace.
  override readonly [Runtime.errorReported] = false
}

/** Print a command's failure as `error: …` on stderr (no stack trace: it is for people, not for us). */
export const reportFailures = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.tapError(effect, (error) => (error instanceof CommandFailed ? Console.error(`error: ${error.message}`) : Effect.void))

/** Turn any failure of a command into a `CommandFailed` with the error's own message. */
export const fromError = (error: { readonly message: string }): CommandFailed => new CommandFailed({ message: error.message })

/** Exit codes of SPEC §7: 0 ok (help included), 1 failure, 2 bad usage, 130 interrupted. */
export const teardown: Runtime.Teardown = (exit, onExit) => {
  if (Exit.isSuccess(exit)) return onExit(0)
  const error = Cause.squash(exit.cause)
  if (CliError.isCliError(error)) return onExit(error._tag === "ShowHelp" && error.errors.length === 0 ? 0 : 2)
  return Runtime.defaultTeardown(exit, onExit)
}

/** A usage mistake the flag parser cannot see (flags that exclude each other, a value out of range): the command's
 * help with the error, exit 2. */
export const usageError = (commandPath: ReadonlyArray<string>, message: string): CliError.ShowHelp =>
  new CliError.ShowHelp({ commandPath: [...commandPath], errors: [new CliError.ValidationError({ message })] })
