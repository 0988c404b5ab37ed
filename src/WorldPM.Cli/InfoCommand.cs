using System.Reflection;
using WorldPM.Losses;
using WorldPM.Native;

namespace WorldPM.Cli;

/// <summary><c>worldpm info</c>: what this installation of WorldPM can do here, and why not.</summary>
internal static class InfoCommand
{
    internal static int Run(TextWriter output)
    {
        string bindings = typeof(WorldPMContext).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        output.WriteLine($"bindings      WorldPM.Native {bindings} (ABI {WorldPMContext.BindingsVersion.ToString(2)})");
        output.WriteLine($"native        libworldpm {WorldPMContext.VersionString} ({WorldPMContext.NativeLibraryPath})");
        output.WriteLine("backends");
        foreach (Backend backend in new[] { Backend.Cpu, Backend.Cuda, Backend.Emu })
        {
            BackendInfo b = WorldPMContext.QueryBackend(backend);
            string state = b.Available ? "available" : "not available";
            string devices = b.DeviceCount > 0 ? $", {b.DeviceCount} device(s)" : "";
            output.WriteLine($"  {Name(backend),-5} {state}{devices}: {b.Reason}");
        }
        using (WorldPMContext cpu = WorldPMContext.Create(Backend.Cpu))
            output.WriteLine($"cpu threads   {cpu.NumThreads} (default CPU context; WORLDPM_NUM_THREADS overrides)");
        output.WriteLine($"cpu features  {WorldPMContext.CpuFeatures}");
        CommInfo comm = Communicator.Query();
        output.WriteLine("collectives   (data parallel: mpirun -np N worldpm train ...)");
        output.WriteLine($"  mpi   {comm.Mpi}" +
            (comm.Launched ? $"; this process is rank {comm.Rank} of {comm.WorldSize} (local rank {comm.LocalRank})" : "; not launched by mpirun"));
        output.WriteLine($"  nccl  {comm.Nccl} (cuda backend only, loaded at run time)");
        IReadOnlyList<string> accelerators = LossAccelerator.DescribeDevices();
        output.WriteLine($"ilgpu         {string.Join("; ", accelerators)} (train --loss other than " +
            $"{PreferenceLosses.BradleyTerryName} runs on the first)");
        return 0;
    }

    internal static string Name(Backend backend) => backend.ToString().ToLowerInvariant();
}
