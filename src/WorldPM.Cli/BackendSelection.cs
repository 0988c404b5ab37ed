using System.CommandLine;
using WorldPM.Native;

namespace WorldPM.Cli;

/// <summary>
/// <c>--backend cpu|emu|cuda|auto</c>, accepted by every command (an option of the root, recursive). Without it the
/// backend is the one <c>WORLDPM_BACKEND</c> names, else cpu: cpu is the fast path on a machine without a GPU, emu
/// runs the CUDA kernels in the emulator (slow; for checking kernels), auto picks cuda when a device is visible.
/// </summary>
internal static class BackendSelection
{
    private const string Name = "--backend";

    public static Option<string?> Create() => new(Name)
    {
        Description = $"Where the model runs: cpu, emu (the CUDA kernels emulated on the CPU; slow), cuda or auto. " +
            $"Default: ${BackendNames.EnvironmentVariable}, else cpu.",
        HelpName = "cpu|emu|cuda|auto",
        Recursive = true,
    };

    /// <summary>The backend the command line asks for.</summary>
    /// <exception cref="UsageException">An unknown name, in --backend or in the environment variable.</exception>
    public static Backend Of(ParseResult result)
    {
        string? name = result.GetValue<string?>(Name);
        try
        {
            return name is null ? BackendNames.FromEnvironment(Backend.Cpu) : BackendNames.Parse(name);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(name is null ? e.Message : $"{Name}: {e.Message}");
        }
    }
}
