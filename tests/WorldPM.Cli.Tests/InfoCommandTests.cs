namespace WorldPM.Cli.Tests;

/// <summary>
/// <c>worldpm info</c> on a machine without oneDNN and MPI: libworldpm opens both at run time, so it still loads,
/// and info names each missing library. The overrides are read on first use, so the run is a child process of its
/// own (this test process may have loaded both already).
/// </summary>
public class InfoCommandTests
{
    [Test]
    public void WithoutOnednnAndMpiInfoStillWorksAndSaysWhatIsMissing()
    {
        const string onednn = "/nonexistent/libdnnl.so.2", mpi = "/nonexistent/libmpi.so.40";
        CliResult result = WorldpmProcess.Run(
            new Dictionary<string, string> { ["WORLDPM_ONEDNN_LIBRARY"] = onednn, ["WORLDPM_MPI_LIBRARY"] = mpi }, "info");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString);
        string cpu = result.OutputLines.Single(line => line.StartsWith("cpu ", StringComparison.Ordinal) && line.Contains("BLAS"));
        Assert.That(cpu, Does.StartWith("cpu   available"), result.ToString);
        Assert.That(cpu, Does.Contain($"oneDNN unavailable: {onednn} not found"), result.ToString);
        string mpiLine = result.OutputLines.Single(line => line.StartsWith("mpi ", StringComparison.Ordinal));
        Assert.That(mpiLine, Does.StartWith($"mpi   unavailable: {mpi} not found; install"), result.ToString);
    }
}
