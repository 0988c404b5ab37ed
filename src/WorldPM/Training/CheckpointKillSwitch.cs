using System.Diagnostics;
using System.Globalization;

namespace WorldPM.Training;

/// <summary>
/// FOR TESTS ONLY. Lets a test kill a real training process in the middle of a checkpoint write, to check
/// that such a kill never costs the last good checkpoint and that resuming reproduces the uninterrupted run.
/// With the environment variable <see cref="Variable"/> set to a step N, the process sends itself SIGKILL
/// while saving checkpoint N: after the weights and config are in <c>step-N.tmp/</c> and before the
/// training state is, so before the rename that would commit it. SIGKILL, not an exception or an exit,
/// so that no finally block, flush or shutdown handler runs: the same as <c>kill -9</c> or the OOM killer.
/// Unset, as everywhere outside those tests, it does nothing.
/// </summary>
internal static class CheckpointKillSwitch
{
    public const string Variable = "WORLDPM_TEST_KILL_DURING_CHECKPOINT";

    /// <summary>Kills this process now if the variable names <paramref name="step"/>.</summary>
    public static void KillIfAsked(long step)
    {
        string? value = Environment.GetEnvironmentVariable(Variable);
        if (value is null) return;
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long killAt))
            throw new InvalidOperationException($"{Variable} is '{value}'; it must be a step number (it is a test hook: unset it)");
        if (killAt == step) Process.GetCurrentProcess().Kill();
    }
}
