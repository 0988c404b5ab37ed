using System.Diagnostics;
using System.Text;

namespace WorldPM.Cli.Tests;

/// <summary>
/// <c>mpirun -np N dotnet worldpm.dll ...</c> as a child process, for the data-parallel tests: the launched ranks
/// inherit a run id in their environment, so a test can find one rank's process (to kill or stop it) among
/// everything else on the machine. Runs on the cpu backend whatever WORLDPM_BACKEND says: the collectives on emu
/// buffers are covered by the native comm tests, and two emulated trainers would take minutes.
/// </summary>
public sealed class MpiLaunch : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _runId = Guid.NewGuid().ToString("N");

    public MpiLaunch(int ranks, params string[] args) : this(new Dictionary<string, string>(), ranks, args) { }

    /// <summary>The same, with <paramref name="environment"/> set in every rank.</summary>
    public MpiLaunch(IReadOnlyDictionary<string, string> environment, int ranks, params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "worldpm.dll");
        var start = new ProcessStartInfo("mpirun")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // As root OpenMPI refuses to start without --allow-run-as-root; --oversubscribe: more ranks than cores is fine here.
        foreach (string a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(), "-x", "WORLDPM_TEST_RUN_ID" })
            start.ArgumentList.Add(a);
        foreach (string name in environment.Keys)
        {
            start.ArgumentList.Add("-x");
            start.ArgumentList.Add(name);
        }
        start.ArgumentList.Add(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet");
        start.ArgumentList.Add(cli);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.Environment["WORLDPM_TEST_RUN_ID"] = _runId;
        start.Environment["WORLDPM_BACKEND"] = "cpu";
        foreach ((string name, string value) in environment) start.Environment[name] = value;
        _process = Process.Start(start) ?? throw new InvalidOperationException("mpirun did not start");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>stdout and stderr of mpirun and every rank, interleaved as they came.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Waits for mpirun to exit; its status, or null when it had not exited within <paramref name="limit"/>.</summary>
    public int? WaitForExit(TimeSpan limit)
    {
        if (!_process.WaitForExit(limit)) return null;
        _process.WaitForExit();  // drains the output readers
        return _process.ExitCode;
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; false after <paramref name="limit"/> or if mpirun exited.</summary>
    public bool WaitForOutput(string text, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit && !_process.HasExited)
        {
            if (Output.Contains(text, StringComparison.Ordinal)) return true;
            Thread.Sleep(50);
        }
        return Output.Contains(text, StringComparison.Ordinal);
    }

    /// <summary>The process id of rank <paramref name="rank"/> of this launch (from /proc: its environment holds the run id and its rank).</summary>
    public int PidOfRank(int rank)
    {
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            string environ;
            try { environ = File.ReadAllText(Path.Combine(dir, "environ")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            string[] vars = environ.Split('\0');
            if (vars.Contains($"WORLDPM_TEST_RUN_ID={_runId}") && vars.Contains($"OMPI_COMM_WORLD_RANK={rank}")) return pid;
        }
        throw new InvalidOperationException($"no process of rank {rank} in this launch\n{Output}");
    }

    /// <summary>Sends a signal (KILL, STOP, CONT) to a process with the kill command.</summary>
    public static void Signal(int pid, string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, pid.ToString()])!;
        kill.WaitForExit();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
