namespace WorldPM.Native;

/// <summary>
/// The names of the backends on command lines and in the environment (<c>auto</c>, <c>cpu</c>, <c>cuda</c>,
/// <c>emu</c>), and the <c>WORLDPM_BACKEND</c> variable that picks a default for programs built on these
/// bindings (the <c>worldpm</c> CLI and the test suites read it, so a whole suite can run on the emulator).
/// </summary>
public static class BackendNames
{
    /// <summary>The environment variable that names the default backend.</summary>
    public const string EnvironmentVariable = "WORLDPM_BACKEND";

    private static readonly (string Name, Backend Backend)[] Names =
        [("auto", Backend.Auto), ("cpu", Backend.Cpu), ("cuda", Backend.Cuda), ("emu", Backend.Emu)];

    /// <summary>The lower-case name of <paramref name="backend"/>.</summary>
    public static string Name(Backend backend) =>
        Array.Find(Names, n => n.Backend == backend).Name ?? backend.ToString().ToLowerInvariant();

    /// <summary>Parses a backend name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is none of auto, cpu, cuda, emu; the message says which it was.</exception>
    public static Backend Parse(string name)
    {
        foreach (var (known, backend) in Names)
        {
            if (string.Equals(known, name.Trim(), StringComparison.OrdinalIgnoreCase)) return backend;
        }
        throw new ArgumentException($"unknown backend '{name}' (expected auto, cpu, cuda or emu)", nameof(name));
    }

    /// <summary>The backend <c>WORLDPM_BACKEND</c> names, or <paramref name="fallback"/> when it is unset or empty.</summary>
    /// <exception cref="ArgumentException">The variable holds an unknown name; the message names the variable.</exception>
    public static Backend FromEnvironment(Backend fallback)
    {
        string? value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        try
        {
            return Parse(value);
        }
        catch (ArgumentException)
        {
            throw new ArgumentException($"{EnvironmentVariable}: unknown backend '{value}' (expected auto, cpu, cuda or emu)");
        }
    }
}
