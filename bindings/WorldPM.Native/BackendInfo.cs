namespace WorldPM.Native;

/// <summary>What the library says about one backend on this machine.</summary>
/// <param name="Backend">The backend asked about.</param>
/// <param name="Built">Compiled into this library.</param>
/// <param name="Available">A context can be created on it now.</param>
/// <param name="DeviceCount">GPUs visible (0 for the CPU backend).</param>
/// <param name="Reason">Why it is not available, or what it runs on.</param>
public sealed record BackendInfo(Backend Backend, bool Built, bool Available, int DeviceCount, string Reason);
