using System.Runtime.InteropServices;

namespace WorldPM.Cli;

/// <summary>
/// A command stopped by SIGINT (Ctrl-C) or SIGTERM after cleaning up what it had started (<see cref="TemporaryTokenStore"/>).
/// <see cref="Cli.Run"/> prints its message and exits with <see cref="ExitCode"/>, 128 plus the signal's number as a
/// shell reports a process the signal ended: 130 for SIGINT, 143 for SIGTERM.
/// </summary>
internal sealed class CommandInterruptedException(PosixSignal signal, string doing)
    : Exception($"interrupted by {signal} while {doing}; the temporary files were removed")
{
    public int ExitCode { get; } = 128 + (signal == PosixSignal.SIGINT ? 2 : 15);
}
